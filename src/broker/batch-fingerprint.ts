// What an idempotent batch's records say, as a number: the producer table keeps it with each cached
// batch so that a batch reusing an appended batch's sequence with other records is refused instead of
// being answered as that batch's duplicate (its records would be acknowledged and never stored).
//
// It covers what the client chose — each record's key (and whether it has one), value and headers, in
// order — and leaves out timestamps: a record sent without one gets the leader's clock, which differs
// between a batch and its resend, and kafkajs stamps Date.now() anew each time it encodes a request, so
// a genuine resend carries other timestamps. The record count is compared beside it (CachedBatch).
// Computed at apply from the stored blob, so every node finds the same value for the same command.
import { ByteReader } from "./binary";
import { crc32cExtend } from "./crc32c";
import { corruptData } from "./errors";
import { recordBatchHeaderBytes } from "./record-batch";

function malformed(what: string): Error {
  return corruptData(`record batch: ${what}`);
}

/**
 * CRC-32C over every record's encoding after its timestamp delta (record-batch.ts): key length + 1, key,
 * value length, value, header count, headers. The stored encoding is canonical (one encoder writes it
 * from the client's fields), so equal records give equal bytes on every leader. It reads the records
 * the blob holds; apply checked the header, and the record count is compared on its own.
 */
export function batchFingerprint(blob: Uint8Array): number {
  const r = new ByteReader(blob, malformed, recordBatchHeaderBytes);
  let crc = 0;
  while (r.remaining > 0) {
    r.varint("timestamp delta");
    const start = r.pos;
    const keyLengthPlusOne = r.varint("key length");
    if (keyLengthPlusOne > 0) r.skip(keyLengthPlusOne - 1, "key");
    r.skip(r.varint("value length"), "value");
    const headerCount = r.varint("header count");
    for (let h = 0; h < headerCount; h++) {
      r.skip(r.varint("header key length"), "header key");
      r.skip(r.varint("header value length"), "header value");
    }
    crc = crc32cExtend(crc, blob, start, r.pos);
  }
  return crc;
}
