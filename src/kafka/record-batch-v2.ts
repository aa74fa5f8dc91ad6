// Kafka's RecordBatch (magic 2): decoding what producers send, encoding what fetchers read. Pure: the
// CRC-32C is checked here, while decompression is handed in by the caller (it needs zlib).
//
// Layout: baseOffset i64, batchLength i32, partitionLeaderEpoch i32, magic i8 = 2, crc u32 (CRC-32C of
// everything after it), attributes i16 (bits 0-2 compression, 3 timestamp type, 4 transactional,
// 5 control), lastOffsetDelta i32, baseTimestamp i64, maxTimestamp i64, producerId i64, producerEpoch i16,
// baseSequence i32, recordCount i32, then the records (possibly compressed), each:
// length varint, attributes i8, timestampDelta varlong, offsetDelta varint, key (varint length, -1 =
// null), value (likewise), headerCount varint, headers (key varint length + UTF-8, value like key).
import { crc32c } from "../broker/crc32c";
import { KafkaDecodeError, KafkaReader, KafkaWriter, fromUtf8, utf8Bytes } from "./wire";

export enum Compression {
  None = 0,
  Gzip = 1,
  Snappy = 2,
  Lz4 = 3,
  Zstd = 4,
}

export interface KafkaHeader {
  key: string;
  value: Uint8Array;
}

export interface KafkaRecord {
  timestampMs: number;
  key: Uint8Array | null;
  /** null is a tombstone. */
  value: Uint8Array | null;
  headers: KafkaHeader[];
}

export interface DecodedBatch {
  baseOffset: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  transactional: boolean;
  control: boolean;
  records: KafkaRecord[];
}

/** Inflates a compressed records section; throws for codecs it does not know (UnsupportedCompression). */
export type Decompress = (codec: Compression, bytes: Uint8Array) => Uint8Array;

export class UnsupportedCompression extends Error {
  override readonly name = "UnsupportedCompression";
}

export class CorruptBatch extends KafkaDecodeError {}

const magicV2 = 2;
/** Bytes from baseOffset up to and including the record count. */
export const batchHeaderBytes = 61;
/** Offset of the first byte the CRC covers (attributes). */
const crcStart = 21;

/**
 * Every batch in a Produce partition's records (usually one). Throws CorruptBatch for a bad CRC or
 * layout, UnsupportedCompression for a codec `decompress` refuses.
 */
export function decodeBatches(blob: Uint8Array, decompress: Decompress, maxRecords: number): DecodedBatch[] {
  const out: DecodedBatch[] = [];
  let pos = 0;
  let records = 0;
  while (pos < blob.length) {
    if (blob.length - pos < batchHeaderBytes) throw new CorruptBatch("truncated record batch header");
    const r = new KafkaReader(blob, pos);
    const baseOffset = r.int64("baseOffset");
    const batchLength = r.int32("batchLength");
    const end = pos + 12 + batchLength;
    if (batchLength < batchHeaderBytes - 12 || end > blob.length) throw new CorruptBatch(`batch length ${batchLength} does not fit`);
    r.int32("partitionLeaderEpoch");
    const magic = r.int8("magic");
    if (magic !== magicV2) throw new CorruptBatch(`record batch magic ${magic}: only magic 2 is accepted`);
    const crc = r.uint32("crc");
    if (crc32c(blob, pos + crcStart, end) !== crc) throw new CorruptBatch("record batch CRC-32C mismatch");
    const batch = decodeOne(new KafkaReader(blob, pos + crcStart, end), baseOffset, decompress, maxRecords - records);
    records += batch.records.length;
    out.push(batch);
    pos = end;
  }
  if (out.length === 0) throw new CorruptBatch("no record batch");
  return out;
}

function decodeOne(r: KafkaReader, baseOffset: number, decompress: Decompress, maxRecords: number): DecodedBatch {
  const attributes = r.int16("attributes");
  const lastOffsetDelta = r.int32("lastOffsetDelta");
  const baseTimestamp = r.int64("baseTimestamp");
  r.int64("maxTimestamp");
  const producerId = r.int64("producerId");
  const producerEpoch = r.int16("producerEpoch");
  const baseSequence = r.int32("baseSequence");
  const count = r.int32("recordCount");
  if (count < 0 || count > maxRecords) throw new CorruptBatch(`record count ${count} is out of bounds (at most ${maxRecords})`);
  if (count !== lastOffsetDelta + 1) throw new CorruptBatch(`record count ${count} disagrees with lastOffsetDelta ${lastOffsetDelta}`);
  const codec = (attributes & 0x7) as Compression;
  const body = codec === Compression.None ? r : new KafkaReader(decompress(codec, r.slice(r.remaining, "records")));
  const records: KafkaRecord[] = [];
  for (let i = 0; i < count; i++) records.push(decodeRecord(body, baseTimestamp, i));
  if (body.remaining !== 0) throw new CorruptBatch(`${body.remaining} bytes after the last record`);
  return {
    baseOffset,
    producerId,
    producerEpoch,
    baseSequence,
    transactional: (attributes & 0x10) !== 0,
    control: (attributes & 0x20) !== 0,
    records,
  };
}

function decodeRecord(r: KafkaReader, baseTimestamp: number, index: number): KafkaRecord {
  const length = r.varint("record length");
  const start = r.pos;
  if (length < 0 || length > r.remaining) throw new CorruptBatch(`record ${index} length ${length} does not fit`);
  r.int8("record attributes");
  const timestampMs = baseTimestamp + r.varlong("timestampDelta");
  const offsetDelta = r.varint("offsetDelta");
  if (offsetDelta !== index) throw new CorruptBatch(`record ${index} has offsetDelta ${offsetDelta}`);
  const key = varBytes(r, "key");
  const value = varBytes(r, "value");
  const headerCount = r.varint("header count");
  if (headerCount < 0 || headerCount > r.remaining) throw new CorruptBatch(`header count ${headerCount} does not fit`);
  const headers: KafkaHeader[] = [];
  for (let h = 0; h < headerCount; h++) {
    const keyBytes = varBytes(r, "header key");
    if (keyBytes === null) throw new CorruptBatch("null header key");
    let headerKey: string;
    try {
      headerKey = fromUtf8(keyBytes);
    } catch {
      throw new CorruptBatch("header key is not UTF-8");
    }
    headers.push({ key: headerKey, value: varBytes(r, "header value") ?? new Uint8Array(0) });
  }
  if (r.pos - start !== length) throw new CorruptBatch(`record ${index} is ${r.pos - start} bytes but says ${length}`);
  return { timestampMs, key, value, headers };
}

function varBytes(r: KafkaReader, what: string): Uint8Array | null {
  const length = r.varint(`${what} length`);
  if (length === -1) return null;
  if (length < 0) throw new CorruptBatch(`${what} length ${length}`);
  return r.slice(length, what);
}

/** A record as stored, ready to be served: offsets are dense from the batch's base offset. */
export interface RecordToServe {
  timestampMs: number;
  key?: Uint8Array | null;
  value: Uint8Array;
  headers: readonly KafkaHeader[];
}

/** Appends one uncompressed RecordBatch v2 holding `records` (at least one) from `baseOffset` on. */
export function writeBatch(w: KafkaWriter, baseOffset: number, records: readonly RecordToServe[]): void {
  const start = w.pos;
  let baseTimestamp = records[0].timestampMs;
  let maxTimestamp = baseTimestamp;
  for (const rec of records) {
    baseTimestamp = Math.min(baseTimestamp, rec.timestampMs);
    maxTimestamp = Math.max(maxTimestamp, rec.timestampMs);
  }
  w.int64(baseOffset).int32(0).int32(0).int8(magicV2).uint32(0);
  w.int16(0).int32(records.length - 1).int64(baseTimestamp).int64(maxTimestamp);
  w.int64(-1).int16(-1).int32(-1).int32(records.length);
  const body = new KafkaWriter(64);
  records.forEach((rec, i) => {
    body.pos = 0;
    body.int8(0).varint(rec.timestampMs - baseTimestamp).varint(i);
    writeVarBytes(body, rec.key ?? null);
    writeVarBytes(body, rec.value);
    body.varint(rec.headers.length);
    for (const h of rec.headers) {
      writeVarBytes(body, utf8Bytes(h.key));
      writeVarBytes(body, h.value);
    }
    w.varint(body.pos).raw(body.finish());
  });
  w.patchInt32(start + 8, w.pos - start - 12);
  w.patchUint32(start + 17, crc32c(w.written(start), crcStart));
}

function writeVarBytes(w: KafkaWriter, bytes: Uint8Array | null): void {
  if (bytes === null) {
    w.varint(-1);
    return;
  }
  w.varint(bytes.length).raw(bytes);
}
