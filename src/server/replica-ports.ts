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
  addCompaction(batch: WriteBatch, point: SnapshotMeta): void;
}

/** Streams this node's applied state as of the last compaction point, for a follower behind the log. */
export interface SnapshotSource {
  /** Marks the current applied state as the snapshot at `meta` (called right after compacting). */
  capture(meta: SnapshotMeta): void;
  open(): { meta: SnapshotMeta; chunks: AsyncIterable<Buffer> } | undefined;
  /** Receives a snapshot beside the live state, which stays untouched until install. */
  stage(meta: SnapshotMeta, chunks: AsyncIterable<Buffer>): Promise<void>;
  /** Replaces the live state with the staged snapshot, durably (raft accepted it). */
  install(meta: SnapshotMeta): Promise<void>;
  /** Drops a staged snapshot raft did not accept. */
  discard(): Promise<void>;
}

export interface PeerLinks {
  send(messages: Message[]): void;
  /** `message` is raft's Snap message; `chunks` the state its meta describes. */
  sendSnapshot(message: Message, chunks: AsyncIterable<Buffer>): Promise<boolean>;
}

/** The replicated state machine as the loop sees it: apply adds its state writes to the batch. */
export interface ReplicatedMachine<R> {
  apply(index: number, data: Uint8Array, batch: WriteBatch): R;
  /** Reloads in-memory state from storage after a snapshot at `appliedIndex` was installed underneath it. */
  reload(appliedIndex: number): Promise<void>;
}

/** Time as the loop sees it: Node's clock and timers in production, the simulator's in tests. */
export interface LoopClock {
  now(): number;
  /** Calls `fn` every `periodMs` until the returned function is called. */
  every(periodMs: number, fn: () => void): () => void;
  /** Calls `fn` after the current turn, never inside the caller. */
  soon(fn: () => void): void;
}

/** What the loop writes about itself; pino's Logger fits. */
export interface LoopLog {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Called when the loop cannot go on without risking the log; production logs and exits the process. */
export type FatalStop = (err: unknown) => void;
