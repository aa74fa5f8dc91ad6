import { test } from "node:test";
import assert from "node:assert/strict";
import { crc32c } from "../../src/broker/crc32c";
import { BrokerError } from "../../src/broker/errors";
import {
  RecordInput,
  decodeRecordBatch,
  encodeRecordBatch,
  readRecordBatchHeader,
  verifyRecordBatch,
} from "../../src/broker/record-batch";

const nowMs = 1_700_000_000_000;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function isDataLoss(err: unknown): boolean {
  return err instanceof BrokerError && err.code === "DATA_LOSS";
}

test("CRC-32C matches the standard check value", () => {
  assert.equal(crc32c(bytes("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  // The 8-byte fast path and the byte tail agree with each other at every split.
  const data = bytes("The quick brown fox jumps over the lazy dog");
  assert.equal(crc32c(data), 0x22620404);
  assert.equal(crc32c(data, 3, 20), crc32c(data.subarray(3, 20)));
});

test("records round-trip: keys (absent, empty, set), headers, timestamps and offsets from the base", () => {
  const records: RecordInput[] = [
    { value: bytes("no key"), timestampMs: 0 },
    { key: new Uint8Array(0), value: new Uint8Array(0), timestampMs: nowMs - 5000 },
    {
      key: bytes("k"),
      value: bytes("with headers"),
      headers: [
        { key: "trace-id", value: bytes("abc") },
        { key: "trace-id", value: bytes("def") },
        { key: "ünïcode", value: new Uint8Array(0) },
      ],
      timestampMs: nowMs + 7,
    },
  ];
  const blob = encodeRecordBatch(records, nowMs);
  const decoded = decodeRecordBatch(blob, 1000);
  assert.deepEqual(
    decoded.map((r) => r.offset),
    [1000, 1001, 1002],
  );
  assert.equal("key" in decoded[0], false, "an absent key stays absent");
  assert.equal(decoded[0].timestampMs, nowMs, "timestamp 0 becomes the broker's now");
  assert.deepEqual(decoded[1].key, new Uint8Array(0), "an empty key stays empty, not absent");
  assert.equal(decoded[1].timestampMs, nowMs - 5000);
  assert.deepEqual(decoded[2].key, bytes("k"));
  assert.deepEqual(decoded[2].value, bytes("with headers"));
  assert.deepEqual(decoded[2].headers, records[2].headers);
  assert.equal(decoded[2].timestampMs, nowMs + 7);

  const header = readRecordBatchHeader(blob);
  assert.equal(header.recordCount, 3);
  assert.equal(header.batchBytes, blob.length);
  assert.equal(header.firstTimestampMs, nowMs);
  assert.equal(header.maxTimestampMs, nowMs + 7);
  assert.equal(header.largestRecordBytes, 1 + 12 + 8 + 3 + 8 + 3 + "ünïcode".length + 2);
});

test("any flipped bit in the body is caught by the checksum", () => {
  const blob = encodeRecordBatch([{ key: bytes("key"), value: bytes("value value value") }], nowMs);
  for (let at = 10; at < blob.length; at++) {
    const damaged = Uint8Array.from(blob);
    damaged[at] ^= 0x04;
    assert.throws(() => decodeRecordBatch(damaged, 0), isDataLoss, `flip at byte ${at}`);
  }
  assert.doesNotThrow(() => verifyRecordBatch(blob));
});

test("a damaged header or length is refused as data loss", () => {
  const blob = encodeRecordBatch([{ value: bytes("v") }], nowMs);
  assert.throws(() => readRecordBatchHeader(blob.subarray(0, blob.length - 1)), isDataLoss);
  const badMagic = Uint8Array.from(blob);
  badMagic[0] = 9;
  assert.throws(() => readRecordBatchHeader(badMagic), isDataLoss);
  assert.throws(() => readRecordBatchHeader(new Uint8Array(3)), isDataLoss);
});

test("encoding refuses an empty batch and invalid timestamps", () => {
  const invalid = (code: string) => (err: unknown) => err instanceof BrokerError && err.code === code;
  assert.throws(() => encodeRecordBatch([], nowMs), invalid("INVALID_ARGUMENT"));
  assert.throws(() => encodeRecordBatch([{ value: bytes("v"), timestampMs: -1 }], nowMs), invalid("INVALID_ARGUMENT"));
  assert.throws(() => encodeRecordBatch([{ value: bytes("v"), timestampMs: 1.5 }], nowMs), invalid("INVALID_ARGUMENT"));
});

test("a large batch keeps exact offsets and values", () => {
  const count = 5000;
  const records: RecordInput[] = Array.from({ length: count }, (_, i) => ({
    key: bytes(`key-${i}`),
    value: bytes(`value-${i}`.repeat(i % 7)),
    timestampMs: nowMs + (i % 3) - 1,
  }));
  const decoded = decodeRecordBatch(encodeRecordBatch(records, nowMs), 2 ** 40);
  assert.equal(decoded.length, count);
  decoded.forEach((r, i) => {
    assert.equal(r.offset, 2 ** 40 + i);
    assert.deepEqual(r.value, records[i].value);
    assert.equal(r.timestampMs, records[i].timestampMs);
  });
});
