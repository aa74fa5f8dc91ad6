// Snapshots for followers behind the compacted log. At each compaction the replica captures a LevelDB
// snapshot of the state exactly at the compaction index; sending streams from it, so the data always
// matches the meta raft put in its Snap message, however far the live state has moved since.
import type { SnapshotMeta } from "../raft";
import { isCorruption } from "../storage/corruption";
import type { Db, DbSnapshot } from "../storage/db";
import type { EntryRefs } from "../storage/entry-refs";
import { discardStaged, exportState, installStagedSnapshot, stageSnapshot } from "../storage/snapshot-store";
import type { SnapshotSource } from "./replica-ports";

export class DbSnapshotSource implements SnapshotSource {
  private current: { meta: SnapshotMeta; snapshot: DbSnapshot } | undefined;

  constructor(
    private readonly db: Db,
    /** Which compacted entries hold several batches, so an export sends each once. */
    private readonly refs: EntryRefs,
    /** Damage found while sending (a carried raft entry failing its checksum): the send fails, and the node repairs. */
    private readonly onDamage: (finding: string) => void = () => undefined,
  ) {}

  capture(meta: SnapshotMeta): void {
    const previous = this.current;
    this.current = { meta, snapshot: this.db.snapshot() };
    // Safe while a send still streams from it: close waits for the open iterator to let go.
    void previous?.snapshot.close();
  }

  open(): { meta: SnapshotMeta; chunks: AsyncIterable<Buffer> } | undefined {
    if (!this.current) return undefined;
    return { meta: this.current.meta, chunks: this.watched(exportState(this.db, { snapshot: this.current.snapshot, sharedEntry: (index) => this.refs.isShared(index) })) };
  }

  private async *watched(chunks: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
    try {
      yield* chunks;
    } catch (err) {
      if (isCorruption(err)) this.onDamage(err instanceof Error ? err.message : String(err));
      throw err;
    }
  }

  stage(meta: SnapshotMeta, chunks: AsyncIterable<Buffer>): Promise<void> {
    return stageSnapshot(this.db, chunks, meta);
  }

  install(meta: SnapshotMeta): Promise<void> {
    return installStagedSnapshot(this.db, meta);
  }

  discard(): Promise<void> {
    return discardStaged(this.db);
  }

  async close(): Promise<void> {
    await this.current?.snapshot.close();
    this.current = undefined;
  }
}
