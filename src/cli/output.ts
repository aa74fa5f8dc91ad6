// Writes to stdout respecting backpressure, so a slow reader of a pipe slows the command down instead
// of filling memory.
export async function writeOut(chunk: Buffer | string, stream: NodeJS.WritableStream = process.stdout): Promise<void> {
  if (!stream.write(chunk)) await new Promise<void>((resolve) => stream.once("drain", resolve));
}
