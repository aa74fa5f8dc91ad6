// Benchmark record values: each carries its sequence number in its first bytes, so a reader can check
// order and integrity, and a subscriber can match a record to the moment it was sent. The rest is 'x'
// (as in the NATS reference, and trivially compressible) or, with useRandomValues, random bytes that
// no storage layer can compress.
import { randomBytes } from "node:crypto";
import type { Record } from "../src/generated/raftline/v1/Record";

/** Bytes at the front of a value that hold the sequence number. */
export const sequenceBytes = 4;
const fillByte = 0x78;
/** Random values are cut from this pool at varying offsets, so no two neighbours are equal. */
const randomPoolBytes = 4 * 1024 * 1024;
/** Prime stride between the pool offsets of consecutive records. */
const randomStrideBytes = 4099;

let randomPool: Buffer | undefined;

/** Switches every later value to random content (true) or back to the 'x' fill (false). */
export function useRandomValues(on: boolean): void {
  randomPool = on ? (randomPool ?? randomBytes(randomPoolBytes)) : undefined;
}

export function recordValue(sequence: number, sizeBytes: number): Buffer {
  const length = Math.max(sizeBytes, sequenceBytes);
  let value: Buffer;
  if (randomPool && length <= randomPoolBytes) {
    const start = (sequence * randomStrideBytes) % (randomPoolBytes - length + 1);
    value = Buffer.from(randomPool.subarray(start, start + length));
  } else {
    value = Buffer.alloc(length, fillByte);
  }
  value.writeUInt32BE(sequence, 0);
  return value;
}

/** `count` records numbered from `first`. */
export function recordRange(first: number, count: number, sizeBytes: number): Record[] {
  const records: Record[] = new Array<Record>(count);
  for (let i = 0; i < count; i++) records[i] = { value: recordValue(first + i, sizeBytes) };
  return records;
}

export function sequenceOf(value: Uint8Array): number {
  if (value.length < sequenceBytes) return -1;
  return ((value[0] << 24) >>> 0) + (value[1] << 16) + (value[2] << 8) + value[3];
}
