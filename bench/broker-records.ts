// Benchmark record values: each carries its sequence number in its first bytes, so a reader can check
// order and integrity, and a subscriber can match a record to the moment it was sent.
import type { Record } from "../src/generated/raftline/v1/Record";

/** Bytes at the front of a value that hold the sequence number. */
export const sequenceBytes = 4;
const fillByte = 0x78;

export function recordValue(sequence: number, sizeBytes: number): Buffer {
  const value = Buffer.alloc(Math.max(sizeBytes, sequenceBytes), fillByte);
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
