// Reads the records a share group acquired (or is about to dead-letter) from this node's storage, by
// offset. Acquired offsets are usually runs, so a run is one read of the few raft entries that hold it.
import { BrokerError, type DecodedRecord } from "../../broker";
import { corruptData } from "../../broker/errors";
import { recordsFrom } from "../../broker/fetch-records";
import { readBatches } from "../../storage/broker-store";
import type { NodeContext } from "../node-context";

/** Bytes of batches located per read; a run longer than this takes more reads. */
const readChunkBytes = 4 * 1024 * 1024;
/** Wanted offsets this close together are read in one pass (decoding the few between them). */
const runGap = 64;

/**
 * The records at `offsets` of one partition, by offset. Offsets that retention removed meanwhile are
 * absent from the answer (their acquisition runs out unanswered, and the group skips them).
 */
export async function readOffsets(ctx: NodeContext, topic: string, partition: number, offsets: readonly number[]): Promise<Map<number, DecodedRecord>> {
  const wanted = [...new Set(offsets)].sort((a, b) => a - b);
  const found = new Map<number, DecodedRecord>();
  let i = 0;
  while (i < wanted.length) {
    const from = wanted[i];
    let j = i;
    while (j + 1 < wanted.length && wanted[j + 1] - wanted[j] <= runGap) j++;
    // Reading only the batches up to the run's last offset: a short acquisition does not decode megabytes.
    const runLast = wanted[j];
    let records: DecodedRecord[];
    try {
      // Located and opened together once the applied state has landed, so what is located is in storage.
      const batches = await ctx.replica.readLanded(() => {
        const loc = ctx.machine.state.locate(topic, partition, from, readChunkBytes, runLast);
        return readBatches(ctx.db, loc.batches);
      });
      records = recordsFrom(await batches, from, readChunkBytes);
    } catch (err) {
      if (err instanceof BrokerError && err.code === "OUT_OF_RANGE") {
        i++;
        continue;
      }
      ctx.damage.noteIfDamage(err);
      throw err;
    }
    if (records.length === 0) {
      const missing = corruptData(`offset ${from} of "${topic}" partition ${partition} is applied and written but missing from storage`);
      ctx.damage.noteIfDamage(missing);
      throw missing;
    }
    const last = records[records.length - 1].offset;
    for (; i < wanted.length && wanted[i] <= last; i++) {
      const r = records[wanted[i] - from];
      if (r) found.set(r.offset, r);
    }
  }
  return found;
}
