// Turning the stored batches a fetch read into the records to answer with: decoded (checksums
// verified), trimmed to start at the requested offset, dense, and bounded by bytes.
import { BrokerError, corruptData } from "./errors";
import { DecodedRecord, decodeRecordBatch } from "./record-batch";

/** A stored batch blob and the base offset from its key. */
export interface StoredBatch {
  baseOffset: number;
  blob: Uint8Array;
}

// A soft bound (it only decides where to stop), so header keys count by characters, not UTF-8 bytes.
function approximateBytes(record: DecodedRecord): number {
  let size = (record.key?.length ?? 0) + record.value.length;
  for (const header of record.headers) size += header.key.length + header.value.length;
  return size;
}

/**
 * Records from `offset` on, stopping before the one that would take the total over `maxBytes` (but
 * always at least one). Throws DATA_LOSS on a bad checksum or a gap, and OUT_OF_RANGE when the batches
 * start after `offset` (retention removed it between locating and reading).
 */
export function recordsFrom(batches: readonly StoredBatch[], offset: number, maxBytes: number): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  if (batches.length > 0 && batches[0].baseOffset > offset) {
    throw new BrokerError(
      "OUT_OF_RANGE",
      "ERROR_REASON_OFFSET_OUT_OF_RANGE",
      `offset ${offset} was removed by retention; the partition now starts at ${batches[0].baseOffset}`,
    );
  }
  let next = offset;
  let bytes = 0;
  for (const batch of batches) {
    for (const record of decodeRecordBatch(batch.blob, batch.baseOffset)) {
      if (record.offset < next) continue;
      if (record.offset !== next) throw corruptData(`stored batches skip from offset ${next} to ${record.offset}`);
      const size = approximateBytes(record);
      if (out.length > 0 && bytes + size > maxBytes) return out;
      out.push(record);
      bytes += size;
      next++;
    }
  }
  return out;
}
