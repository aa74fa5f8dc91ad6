// Maps a ProduceBatchResult back onto the batch's records: which partition and offset each one got.
import { status } from "@grpc/grpc-js";
import type { PartitionAppend__Output } from "../generated/raftline/v1/PartitionAppend";
import { RaftlineError } from "./errors";

export interface RecordPlacement {
  partition: number;
  /** -1 when the offset was not known at answer time (acks other than quorum). */
  offset: number;
}

/** A PartitionAppend; `duplicate` may be absent (older servers), and placements do not depend on it. */
export type AppendPlacement = Omit<PartitionAppend__Output, "duplicate"> & { duplicate?: boolean };

export function placementsOf(result: { topic: string; appends: readonly AppendPlacement[] }, recordCount: number): RecordPlacement[] {
  const placements: (RecordPlacement | undefined)[] = new Array(recordCount).fill(undefined);
  for (const append of result.appends) {
    // An append without indices holds the whole batch, in order.
    const indices = append.recordIndices.length > 0 ? append.recordIndices : [...Array(append.recordCount).keys()];
    indices.forEach((recordIndex, i) => {
      if (recordIndex >= recordCount) throw incomplete(`record index ${recordIndex} beyond the batch of ${recordCount}`);
      placements[recordIndex] = {
        partition: append.partition,
        offset: append.baseOffset < 0 ? -1 : append.baseOffset + i,
      };
    });
  }
  const missing = placements.findIndex((p) => p === undefined);
  if (missing >= 0) throw incomplete(`record ${missing} of ${recordCount} has no placement`);
  return placements as RecordPlacement[];
}

function incomplete(detail: string): RaftlineError {
  return new RaftlineError({ code: status.INTERNAL, message: `malformed produce answer: ${detail}` });
}
