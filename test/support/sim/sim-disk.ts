// The replica loop's storage ports over the simulated disk. A batch collects what the loop adds to it (the
// Readys that piled up for one write, the entries applied into it, a compaction) and reaches the SimStore only when its write lands:
// writes land one at a time, in the order they were started, and a crash loses those not yet landed.
import { ConfState, Entry, Ready, SnapshotMeta } from "../../../src/raft";
import type { WriteBatch } from "../../../src/server/replica-ports";

/** One applied entry, with the membership after it for a conf change. */
export interface AppliedEntry {
  entry: Entry;
  conf: ConfState | undefined;
}

export class SimBatch implements WriteBatch {
  /** The Readys this write carries, in the order the loop handed them over. */
  readonly readies: Ready[] = [];
  readonly applied: AppliedEntry[] = [];
  /** Compact the stored log to this applied point (captured when an earlier write landed). */
  compactTo: SnapshotMeta | undefined;
  /** A received snapshot replacing log and state machine. */
  install: { meta: SnapshotMeta; data: Uint8Array } | undefined;

  constructor(private readonly submit: (batch: SimBatch, sync: boolean) => Promise<void>) {}

  put(): never {
    throw new Error("the simulated disk takes a Ready, applied entries and compactions, not raw keys");
  }

  del(): never {
    throw new Error("the simulated disk takes a Ready, applied entries and compactions, not raw keys");
  }

  write(options: { sync: boolean }): Promise<void> {
    return this.submit(this, options.sync);
  }
}

export function asSimBatch(batch: WriteBatch): SimBatch {
  if (!(batch instanceof SimBatch)) throw new Error("a batch from another store reached the simulated disk");
  return batch;
}

/** The bytes of a snapshot as one chunk, the way a transport would stream them. */
export async function* chunksOf(data: Uint8Array): AsyncIterable<Buffer> {
  yield Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export async function collect(chunks: AsyncIterable<Buffer>): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}
