// The stored record batch: encoded once by the leader before proposing, stored as is, decoded on fetch.
// Offsets are not inside (the base offset is part of the storage key, assigned at apply), so the blob can
// be built before its offsets are known and never needs rewriting.
//
// Layout (version 1), integers big-endian:
//   0   u8   magic = 1
//   1   u8   attributes = 0 (reserved for compression)
//   2   u32  batchBytes: length of the whole blob
//   6   u32  CRC-32C of bytes [10, batchBytes)
//   10  u32  recordCount (>= 1)
//   14  u32  largestRecordBytes: the largest record's size, so apply can re-check limits in O(1)
//   18  u64  firstTimestampMs
//   26  u64  maxTimestampMs
//   34  records, each:
//        varint zigzag(timestampMs - firstTimestampMs)
//        varint keyLength + 1 (0 = no key), key
//        varint valueLength, value
//        varint headerCount, then per header: varint keyLength, UTF-8 key, varint valueLength, value
import { ByteReader, ByteWriter, unzigzag, utf8, varintBytes, zigzag } from "./binary";
import { crc32c } from "./crc32c";
import { corruptData, invalidField } from "./errors";
import { emptyBatch } from "./validation";

export interface RecordHeader {
  key: string;
  value: Uint8Array;
}

/** A record to encode; structurally the generated proto Record, so requests pass straight through. */
export interface RecordInput {
  key?: Uint8Array | null;
  value: Uint8Array;
  headers?: readonly RecordHeader[];
  /** 0 or absent: the batch's `nowMs` is used. */
  timestampMs?: number;
}

/** A decoded record; structurally the generated proto ConsumedRecord. `key` is absent when none was sent. */
export interface DecodedRecord {
  offset: number;
  timestampMs: number;
  key?: Uint8Array;
  value: Uint8Array;
  headers: RecordHeader[];
}

export interface RecordBatchHeader {
  batchBytes: number;
  recordCount: number;
  largestRecordBytes: number;
  firstTimestampMs: number;
  maxTimestampMs: number;
}

export const recordBatchMagic = 1;
export const recordBatchHeaderBytes = 34;
/** Timestamps beyond this (about year 37,000) are refused, so timestamp deltas stay exact integers. */
export const maxTimestampMs = 2 ** 50;
const crcStart = 10;

function validTimestamp(timestampMs: number, field: string): number {
  if (!Number.isSafeInteger(timestampMs) || timestampMs < 0 || timestampMs > maxTimestampMs) {
    throw invalidField(`${field} must be an integer in 0..${maxTimestampMs}, got ${timestampMs}`);
  }
  return timestampMs;
}

/** A record with its timestamp resolved, header keys encoded once, and its size as limits count it. */
interface PreparedRecord {
  record: RecordInput;
  timestampMs: number;
  headerKeys: Uint8Array[];
  sizeBytes: number;
}

// Size counts key + value + header keys (UTF-8) + header values, as the public API documents.
function prepare(record: RecordInput, index: number, nowMs: number): PreparedRecord {
  const given = record.timestampMs ?? 0;
  const timestampMs = given === 0 ? nowMs : validTimestamp(given, `timestamp_ms of record ${index}`);
  const headerKeys = (record.headers ?? []).map((h) => utf8(h.key));
  let sizeBytes = (record.key?.length ?? 0) + record.value.length;
  (record.headers ?? []).forEach((h, i) => (sizeBytes += headerKeys[i].length + h.value.length));
  return { record, timestampMs, headerKeys, sizeBytes };
}

function encodedLength(p: PreparedRecord, firstTimestampMs: number): number {
  const { record } = p;
  const keyLength = record.key ? record.key.length : -1;
  let length =
    varintBytes(zigzag(p.timestampMs - firstTimestampMs)) +
    varintBytes(keyLength + 1) +
    Math.max(keyLength, 0) +
    varintBytes(record.value.length) +
    record.value.length +
    varintBytes(p.headerKeys.length);
  (record.headers ?? []).forEach((h, i) => {
    const key = p.headerKeys[i];
    length += varintBytes(key.length) + key.length + varintBytes(h.value.length) + h.value.length;
  });
  return length;
}

/** Encodes records (at least one) into one batch. Records with timestamp 0 get `nowMs`. */
export function encodeRecordBatch(records: readonly RecordInput[], nowMs: number): Uint8Array {
  if (records.length === 0) throw emptyBatch("a record batch needs at least one record");
  validTimestamp(nowMs, "nowMs");
  const prepared = records.map((record, index) => prepare(record, index, nowMs));
  const firstTimestampMs = prepared[0].timestampMs;
  let maxTs = firstTimestampMs;
  let largestRecordBytes = 0;
  let batchBytes = recordBatchHeaderBytes;
  for (const p of prepared) {
    maxTs = Math.max(maxTs, p.timestampMs);
    largestRecordBytes = Math.max(largestRecordBytes, p.sizeBytes);
    batchBytes += encodedLength(p, firstTimestampMs);
  }

  const w = new ByteWriter(batchBytes);
  w.u8(recordBatchMagic);
  w.u8(0);
  w.u32(batchBytes);
  w.u32(0);
  w.u32(records.length);
  w.u32(largestRecordBytes);
  w.u64(firstTimestampMs);
  w.u64(maxTs);
  for (const p of prepared) writeRecord(w, p, firstTimestampMs);
  const blob = w.finish();
  new DataView(blob.buffer, blob.byteOffset, blob.byteLength).setUint32(6, crc32c(blob, crcStart));
  return blob;
}

function writeRecord(w: ByteWriter, p: PreparedRecord, firstTimestampMs: number): void {
  const { record } = p;
  w.varint(zigzag(p.timestampMs - firstTimestampMs));
  if (record.key) {
    w.varint(record.key.length + 1);
    w.raw(record.key);
  } else {
    w.varint(0);
  }
  w.varint(record.value.length);
  w.raw(record.value);
  w.varint(p.headerKeys.length);
  (record.headers ?? []).forEach((h, i) => {
    w.varint(p.headerKeys[i].length);
    w.raw(p.headerKeys[i]);
    w.varint(h.value.length);
    w.raw(h.value);
  });
}

function malformed(what: string): Error {
  return corruptData(`record batch: ${what}`);
}

/** Reads and sanity-checks the header without touching the records or the CRC (cheap: used by apply). */
export function readRecordBatchHeader(blob: Uint8Array): RecordBatchHeader {
  const r = new ByteReader(blob, malformed);
  const magic = r.u8("magic");
  if (magic !== recordBatchMagic) throw malformed(`unknown magic ${magic}`);
  r.u8("attributes");
  const batchBytes = r.u32("batchBytes");
  if (batchBytes !== blob.length) throw malformed(`length ${blob.length} but header says ${batchBytes}`);
  r.u32("crc");
  const header: RecordBatchHeader = {
    batchBytes,
    recordCount: r.u32("recordCount"),
    largestRecordBytes: r.u32("largestRecordBytes"),
    firstTimestampMs: r.u64("firstTimestampMs"),
    maxTimestampMs: r.u64("maxTimestampMs"),
  };
  if (header.recordCount === 0) throw malformed("no records");
  return header;
}

/** Throws DATA_LOSS if the blob's checksum does not match its contents. */
export function verifyRecordBatch(blob: Uint8Array): RecordBatchHeader {
  const header = readRecordBatchHeader(blob);
  const stored = new DataView(blob.buffer, blob.byteOffset, blob.byteLength).getUint32(6);
  const actual = crc32c(blob, crcStart);
  if (stored !== actual) throw malformed(`CRC-32C mismatch (stored ${stored}, computed ${actual})`);
  return header;
}

/** Decodes every record, numbering them from `baseOffset`. Keys and values are views into `blob`. */
export function decodeRecordBatch(blob: Uint8Array, baseOffset: number): DecodedRecord[] {
  const header = verifyRecordBatch(blob);
  const r = new ByteReader(blob, malformed, recordBatchHeaderBytes);
  const records: DecodedRecord[] = [];
  for (let i = 0; i < header.recordCount; i++) {
    const timestampMs = header.firstTimestampMs + unzigzag(r.varint("timestamp delta"));
    const keyLengthPlusOne = r.varint("key length");
    const key = keyLengthPlusOne === 0 ? undefined : r.slice(keyLengthPlusOne - 1, "key");
    const value = r.slice(r.varint("value length"), "value");
    const headerCount = r.varint("header count");
    const headers: RecordHeader[] = [];
    for (let h = 0; h < headerCount; h++) {
      const headerKey = r.utf8(r.varint("header key length"), "header key");
      headers.push({ key: headerKey, value: r.slice(r.varint("header value length"), "header value") });
    }
    const record: DecodedRecord = { offset: baseOffset + i, timestampMs, value, headers };
    if (key) record.key = key;
    records.push(record);
  }
  if (r.remaining !== 0) throw malformed(`${r.remaining} bytes after the last record`);
  return records;
}
