// Splits a byte stream into lines at '\n', as Buffers (any bytes but '\n' survive, '\r' included). A
// last line without '\n' is a line too, so a file ending in a newline round-trips exactly.
export async function* lines(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of input) {
    let data = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
    let at = data.indexOf(0x0a);
    while (at >= 0) {
      yield data.subarray(0, at);
      data = data.subarray(at + 1);
      at = data.indexOf(0x0a);
    }
    // Copied so the chunk it came from can be freed.
    rest = Buffer.from(data);
  }
  if (rest.length > 0) yield rest;
}
