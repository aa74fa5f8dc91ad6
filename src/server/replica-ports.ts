// What the replica loop needs from storage, the transport and the state machine, as narrow interfaces:
// the loop is written against these, and run-node wires the real implementations in.
import type { ConfState, Message, Ready, SnapshotMeta } from "../raft";

/** A write batch that is committed atomically (a classic-level chained batch in production). */
export interface WriteBatch {
  put(key: Buffer, value: Buffer): unknown;
  del(key: Buffer): unknown;
  write(options: { sync: boolean }): Promise<void>;
}

export interface RaftPersistence {
  newBatch(): WriteBatch;
  addReady(batch: WriteBatch, rd: Ready): void;
  addApplied(batch: WriteBatch, index: number, conf: ConfState): void;
  addCompaction(batch: WriteBatch, index: number): void;
}

/** Streams this node's applied state as of the last compaction point, for a follower behind the log. */
export interface SnapshotSource {
  /** Marks the current applied state as the snapshot at `meta` (called right after compacting). */
  capture(meta: SnapshotMeta): void;
  open(): { meta: SnapshotMeta; chunks: AsyncIterable<Buffer> } | undefined;
  /** Replaces the local state with a received snapshot, durably. */
  install(meta: SnapshotMeta, chunks: AsyncIterable<Buffer>): Promise<void>;
}

export interface PeerLinks {
  send(messages: Message[]): void;
  sendSnapshot(to: number, meta: SnapshotMeta, chunks: AsyncIterable<Buffer>): Promise<boolean>;
}

/** The replicated state machine as the loop sees it: apply adds its state writes to the batch. */
export interface ReplicatedMachine<R> {
  apply(index: number, data: Uint8Array, batch: WriteBatch): R;
  /** Reloads in-memory state from storage after a snapshot was installed underneath it. */
  reload(): Promise<void>;
}
