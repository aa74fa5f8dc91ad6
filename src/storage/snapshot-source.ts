// The snapshots a node serves to followers behind its log, and installs from its leader.
//
// `capture` pins an explicit LevelDB snapshot of the state at the moment of the call; the replica
// calls it right after the apply batch up to `meta.index` is written (at compaction), before any
// later apply write. Every follower then streams that same version, however long ago it was
// captured, while the live state moves on. A newer capture releases the older version (an export
// still reading it keeps it alive until it finishes).
import type { SnapshotMeta } from "../raft/types";
import type { Db, DbSnapshot } from "./db";
import { type ExportOptions, discardStaged, exportState, installStagedSnapshot, stageSnapshot } from "./snapshot-store";

export class StateSnapshots {
  private captured: { meta: SnapshotMeta; snapshot: DbSnapshot } | undefined;

  constructor(
    private readonly db: Db,
    private readonly exportOptions: Pick<ExportOptions, "maxChunkBytes"> = {},
  ) {}

  /** Marks the current state as the snapshot at `meta`. */
  capture(meta: SnapshotMeta): void {
    const previous = this.captured;
    this.captured = { meta, snapshot: this.db.snapshot() };
    if (previous !== undefined) void previous.snapshot.close();
  }

  /** A fresh stream of the last captured snapshot, or undefined if none was captured yet. */
  open(): { meta: SnapshotMeta; chunks: AsyncIterable<Buffer> } | undefined {
    if (this.captured === undefined) return undefined;
    const { meta, snapshot } = this.captured;
    return { meta, chunks: exportState(this.db, { ...this.exportOptions, snapshot }) };
  }

  /** Receives a snapshot beside the live state, which stays untouched until install. */
  stage(meta: SnapshotMeta, chunks: AsyncIterable<Buffer>): Promise<void> {
    return stageSnapshot(this.db, chunks, meta);
  }

  /** Replaces the live state with the staged snapshot, durably (raft accepted it). */
  install(meta: SnapshotMeta): Promise<void> {
    return installStagedSnapshot(this.db, meta);
  }

  /** Drops a staged snapshot raft did not accept. */
  discard(): Promise<void> {
    return discardStaged(this.db);
  }

  /** Releases the captured version; call before closing the database. */
  async close(): Promise<void> {
    const previous = this.captured;
    this.captured = undefined;
    if (previous !== undefined) await previous.snapshot.close();
  }
}
