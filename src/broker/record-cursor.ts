// Walks the records of one stored batch in place: each step leaves the current record's fields as
// positions and lengths into the blob, so a reader can copy them straight into its answer without one
// object per record. Same layout and checks as decodeRecordBatch (record-batch.ts).
import { ByteReader, unzigzag } from "./binary";
import { corruptData } from "./errors";
import { recordBatchHeaderBytes, verifyRecordBatch } from "./record-batch";

function malformed(what: string): Error {
  return corruptData(`record batch: ${what}`);
}

/**
 * UTF-16 code units of UTF-8 bytes: every non-continuation byte, plus one more for each 4-byte sequence.
 * Exact for the header keys stored here, which the batch encoder wrote from strings (always valid UTF-8).
 */
function utf16Length(bytes: Uint8Array, start: number, end: number): number {
  let units = 0;
  for (let i = start; i < end; i++) {
    const byte = bytes[i];
    if ((byte & 0xc0) !== 0x80) units += byte >= 0xf0 ? 2 : 1;
  }
  return units;
}

export class RecordCursor {
  readonly recordCount: number;
  private readonly firstTimestampMs: number;
  private readonly reader: ByteReader;
  /** Position of the current record within the batch: -1 before the first `next()`. */
  private index = -1;

  offset = 0;
  timestampMs = 0;
  /** -1 when the record has no key (an empty key is 0). */
  keyLength = -1;
  keyStart = 0;
  valueStart = 0;
  valueLength = 0;
  headerCount = 0;
  /** Per header, four numbers: key start, key length (UTF-8), value start, value length. Reused. */
  readonly headerSpans: number[] = [];
  /**
   * The record's size as the fetch byte bound counts it (fetch-records.ts): key + value + header values +
   * header keys in characters (UTF-16 units, as a decoded string's length).
   */
  sizeBytes = 0;

  /** Opens a batch: throws DATA_LOSS if its checksum does not match. */
  constructor(
    readonly blob: Uint8Array,
    readonly baseOffset: number,
  ) {
    const header = verifyRecordBatch(blob);
    this.recordCount = header.recordCount;
    this.firstTimestampMs = header.firstTimestampMs;
    this.reader = new ByteReader(blob, malformed, recordBatchHeaderBytes);
  }

  /** Steps to the next record; false after the last one (having checked nothing trails it). */
  next(): boolean {
    if (this.index + 1 >= this.recordCount) {
      if (this.reader.remaining !== 0) throw malformed(`${this.reader.remaining} bytes after the last record`);
      return false;
    }
    this.index++;
    const r = this.reader;
    this.offset = this.baseOffset + this.index;
    this.timestampMs = this.firstTimestampMs + unzigzag(r.varint("timestamp delta"));
    this.keyLength = r.varint("key length") - 1;
    this.keyStart = r.pos;
    this.skip(Math.max(this.keyLength, 0), "key");
    this.valueLength = r.varint("value length");
    this.valueStart = r.pos;
    this.skip(this.valueLength, "value");
    this.sizeBytes = Math.max(this.keyLength, 0) + this.valueLength;
    this.headerCount = r.varint("header count");
    if (this.headerCount > 0) this.readHeaders();
    return true;
  }

  private readHeaders(): void {
    const r = this.reader;
    const spans = this.headerSpans;
    spans.length = 0;
    for (let h = 0; h < this.headerCount; h++) {
      const keyLength = r.varint("header key length");
      const keyStart = r.pos;
      this.skip(keyLength, "header key");
      const valueLength = r.varint("header value length");
      const valueStart = r.pos;
      this.skip(valueLength, "header value");
      spans.push(keyStart, keyLength, valueStart, valueLength);
      this.sizeBytes += utf16Length(this.blob, keyStart, keyStart + keyLength) + valueLength;
    }
  }

  private skip(count: number, what: string): void {
    if (count > this.reader.remaining) throw malformed(`truncated ${what}`);
    this.reader.pos += count;
  }
}
