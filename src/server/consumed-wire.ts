// FetchResponse and SubscribeResponse (proto/raftline/v1/consumer.proto) encoded straight from stored
// record batches: each batch's checksum is verified once, its records are walked in place and their
// fields copied into one Buffer, so serving a read builds no object per record. The records chosen are
// exactly recordsFrom's (broker/fetch-records.ts): from the requested offset, dense, bounded by bytes.
import { BrokerError, StoredBatch } from "../broker";
import { corruptData } from "../broker/errors";
import { readRecordBatchHeader } from "../broker/record-batch";
import { RecordCursor } from "../broker/record-cursor";
import { headerBodySize, headerKeyKey, headersKey, headerValueKey, keyKey, offsetKey, timestampMsKey, valueKey } from "./record-fields";
import { fieldKey, lenFieldSize, uintFieldSize, WireWriter, wireTypeLen, wireTypeVarint } from "./wire-writer";

// Field numbers of consumer.proto's responses.
const recordsKey = fieldKey(1, wireTypeLen);
const highWatermarkKey = fieldKey(2, wireTypeVarint);
const logStartOffsetKey = fieldKey(3, wireTypeVarint);
const nextOffsetKey = fieldKey(4, wireTypeVarint);

/** Room for the response's trailing integer fields: three keys and three 64-bit varints. */
const trailerBytes = 3 * (1 + 10);
/** A first guess of what a record adds over its stored form (offset, timestamp, field keys); more grows the buffer. */
const guessOverheadBytesPerRecord = 16;

export interface FetchTrailer {
  highWatermark: number;
  logStartOffset: number;
  nextOffset: number;
}

export interface SubscribeTrailer {
  highWatermark: number;
  logStartOffset: number;
}

function recordBodySize(c: RecordCursor): number {
  let size = uintFieldSize(c.offset) + uintFieldSize(c.timestampMs);
  if (c.keyLength >= 0) size += lenFieldSize(c.keyLength);
  if (c.valueLength > 0) size += lenFieldSize(c.valueLength);
  const spans = c.headerSpans;
  for (let h = 0; h < c.headerCount; h++) size += lenFieldSize(headerBodySize(spans[4 * h + 1], spans[4 * h + 3]));
  return size;
}

function writeRecord(out: WireWriter, c: RecordCursor, bodyBytes: number): void {
  out.byte(recordsKey);
  out.varint(bodyBytes);
  out.uintField(offsetKey, c.offset);
  out.uintField(timestampMsKey, c.timestampMs);
  if (c.keyLength >= 0) out.bytesField(keyKey, c.blob, c.keyStart, c.keyLength);
  if (c.valueLength > 0) out.bytesField(valueKey, c.blob, c.valueStart, c.valueLength);
  const spans = c.headerSpans;
  for (let h = 0; h < c.headerCount; h++) {
    const keyLength = spans[4 * h + 1];
    const valueLength = spans[4 * h + 3];
    out.byte(headersKey);
    out.varint(headerBodySize(keyLength, valueLength));
    if (keyLength > 0) out.bytesField(headerKeyKey, c.blob, spans[4 * h], keyLength);
    if (valueLength > 0) out.bytesField(headerValueKey, c.blob, spans[4 * h + 2], valueLength);
  }
}

function capacityGuess(batches: readonly StoredBatch[]): number {
  let bytes = trailerBytes;
  for (const batch of batches) bytes += batch.blob.length + guessOverheadBytesPerRecord * readRecordBatchHeader(batch.blob).recordCount;
  return bytes;
}

/** The records of one answer, encoded as the repeated `records` field; the trailer completes the message. */
export class ConsumedRecordsWire {
  private finished = false;

  private constructor(
    private readonly out: WireWriter,
    /** Records encoded. */
    readonly recordCount: number,
    /** The offset after the last record encoded, or the requested offset when there are none. */
    readonly nextOffset: number,
  ) {}

  static none(offset: number): ConsumedRecordsWire {
    return new ConsumedRecordsWire(new WireWriter(trailerBytes), 0, offset);
  }

  /**
   * Records from `offset` on, stopping before the one that would take the total over `maxBytes` (but
   * always at least one), or after `maxRecords`. Throws DATA_LOSS on a bad checksum or a gap, and OUT_OF_RANGE when the batches
   * start after `offset` (retention removed it between locating and reading).
   */
  static encode(batches: readonly StoredBatch[], offset: number, maxBytes: number, maxRecords = Infinity): ConsumedRecordsWire {
    if (batches.length > 0 && batches[0].baseOffset > offset) {
      throw new BrokerError(
        "OUT_OF_RANGE",
        "ERROR_REASON_OFFSET_OUT_OF_RANGE",
        `offset ${offset} was removed by retention; the partition now starts at ${batches[0].baseOffset}`,
      );
    }
    const out = new WireWriter(capacityGuess(batches));
    let next = offset;
    let bytes = 0;
    for (const batch of batches) {
      const c = new RecordCursor(batch.blob, batch.baseOffset);
      while (c.next()) {
        if (c.offset < next) continue;
        if (c.offset !== next) throw corruptData(`stored batches skip from offset ${next} to ${c.offset}`);
        if (next > offset && (bytes + c.sizeBytes > maxBytes || next - offset >= maxRecords)) return new ConsumedRecordsWire(out, next - offset, next);
        const body = recordBodySize(c);
        const size = lenFieldSize(body);
        out.reserve(size + trailerBytes);
        const start = out.pos;
        writeRecord(out, c, body);
        if (out.pos - start !== size) throw new Error(`record ${c.offset} took ${out.pos - start} bytes, sized ${size}`);
        bytes += c.sizeBytes;
        next++;
      }
    }
    return new ConsumedRecordsWire(out, next - offset, next);
  }

  fetchResponse(t: FetchTrailer): Buffer {
    const out = this.trailer(t);
    out.uintField(nextOffsetKey, t.nextOffset);
    return out.finish();
  }

  subscribeResponse(t: SubscribeTrailer): Buffer {
    return this.trailer(t).finish();
  }

  private trailer(t: SubscribeTrailer): WireWriter {
    if (this.finished) throw new Error("the records of one answer were already completed into a response");
    this.finished = true;
    this.out.uintField(highWatermarkKey, t.highWatermark);
    this.out.uintField(logStartOffsetKey, t.logStartOffset);
    return this.out;
  }
}
