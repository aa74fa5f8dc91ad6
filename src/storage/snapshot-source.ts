// The snapshots a node serves to followers behind its log, and installs from its leader.
//
// `capture` pins an explicit LevelDB snapshot of the state at the moment of the call; the replica
// calls it right after the apply batch up to `meta.index` is written (at compaction), before any
// later apply write. Every follower then streams that same version, however long ago it was
// captured, while the live state moves on. A newer capture releases the older version (an export
// still reading it keeps it alive until it finishes).
import type { SnapshotMeta } from "../raft/types";
import type { Db, DbSnapshot } from "./db";
import { type ExportOptions, exportState, importState } from "./snapshot-store";

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

  /** Replaces the local state with a received snapshot, durably (see importState). */
  install(meta: SnapshotMeta, chunks: AsyncIterable<Buffer>): Promise<void> {
    return importState(this.db, chunks, meta);
  }

  /** Releases the captured version; call before closing the database. */
  async close(): Promise<void> {
    const previous = this.captured;
    this.captured = undefined;
    if (previous !== undefined) await previous.snapshot.close();
  }
}
