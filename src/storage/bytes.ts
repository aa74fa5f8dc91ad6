// Fixed-width big-endian integers for keys and values. Raft indexes and terms are JavaScript numbers,
// so 64-bit fields hold values up to 2^53 - 1; anything larger on disk means corruption.

const TWO_POW_32 = 0x1_0000_0000;

export function writeUint64BE(buf: Buffer, offset: number, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`not a non-negative safe integer: ${value}`);
  }
  buf.writeUInt32BE(Math.floor(value / TWO_POW_32), offset);
  buf.writeUInt32BE(value >>> 0, offset + 4);
}

export function readUint64BE(buf: Buffer, offset: number): number {
  const value = buf.readUInt32BE(offset) * TWO_POW_32 + buf.readUInt32BE(offset + 4);
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`64-bit value at offset ${offset} exceeds 2^53 - 1`);
  }
  return value;
}
