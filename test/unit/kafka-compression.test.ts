// Produced batches' compression: every codec Kafka clients use inflates back to what was compressed,
// snappy in both its raw and xerial-framed forms, and data that would inflate past the bound is refused
// as a corrupt batch before (snappy, lz4) or while (gzip, zstd) it is inflated.
import { test } from "node:test";
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { compressFrameSync } from "lz4-napi";
import { compressSync } from "snappy";
import { Compression, CorruptBatch, UnsupportedCompression } from "../../src/kafka/record-batch-v2";
import { lz4FrameBoundBytes, snappyBlocks } from "../../src/kafka/compressed-sizes";
import { decompressor } from "../../src/server/kafka/kafka-compression";

const data = Buffer.from("kafka ".repeat(5000));
/** `data` compressed by the zstd command-line tool (Node 20's zlib has no zstd). */
const zstdData = Buffer.from("28b52ffd0468750000306b61666b612001002775f65204f9b30189", "hex");
const bound = 64 * 1024;

function xerial(blocks: Buffer[]): Buffer {
  const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
  return Buffer.concat([header, ...blocks.flatMap((b) => [Buffer.from([b.length >>> 24, (b.length >>> 16) & 0xff, (b.length >>> 8) & 0xff, b.length & 0xff]), b])]);
}

test("gzip, snappy (raw and xerial), lz4 frames and zstd inflate to what was compressed", () => {
  const inflate = decompressor(bound);
  assert.deepEqual(Buffer.from(inflate(Compression.Gzip, gzipSync(data))), data);
  assert.deepEqual(Buffer.from(inflate(Compression.Snappy, compressSync(data))), data);
  const half = data.length / 2;
  const framed = xerial([compressSync(data.subarray(0, half)), compressSync(data.subarray(half))]);
  assert.equal(snappyBlocks(framed).length, 2);
  assert.deepEqual(Buffer.from(inflate(Compression.Snappy, framed)), data);
  assert.deepEqual(Buffer.from(inflate(Compression.Lz4, compressFrameSync(data))), data);
  assert.deepEqual(Buffer.from(inflate(Compression.Zstd, zstdData)), data);
});

test("an LZ4 frame's bound is its block count times its block size", () => {
  const frame = compressFrameSync(data);
  assert.ok(lz4FrameBoundBytes(frame) >= data.length);
  assert.throws(() => lz4FrameBoundBytes(frame.subarray(0, 10)), CorruptBatch);
});

test("data inflating past the bound, an unknown codec and garbage are refused", () => {
  const inflate = decompressor(1024);
  assert.throws(() => inflate(Compression.Gzip, gzipSync(data)), CorruptBatch);
  assert.throws(() => inflate(Compression.Snappy, compressSync(data)), CorruptBatch);
  assert.throws(() => inflate(Compression.Lz4, compressFrameSync(data)), CorruptBatch);
  assert.throws(() => inflate(Compression.Zstd, zstdData), CorruptBatch);
  assert.throws(() => inflate(5 as Compression, data), UnsupportedCompression);
  for (const codec of [Compression.Gzip, Compression.Snappy, Compression.Lz4, Compression.Zstd]) {
    assert.throws(() => inflate(codec, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9])), CorruptBatch, Compression[codec]);
  }
});
