// Snapshots for followers behind the compacted log. At each compaction the replica captures a LevelDB
// snapshot of the state exactly at the compaction index; sending streams from it, so the data always
// matches the meta raft put in its Snap message, however far the live state has moved since.
//
// A newer capture retires the previous one, which is closed once no send reads it any more: LevelDB
// refuses every read of a closed snapshot, and under sustained writes captures come every few seconds
// while sending a large state takes longer.
import type { SnapshotMeta } from "../raft";
import { isCorruption } from "../storage/corruption";
import type { Db, DbSnapshot } from "../storage/db";
import type { EntryRefs } from "../storage/entry-refs";
import { discardStaged, exportState, installStagedSnapshot, stageSnapshot } from "../storage/snapshot-store";
import type { SnapshotSource } from "./replica-ports";

interface Capture {
  meta: SnapshotMeta;
  snapshot: DbSnapshot;
  /** Sends reading it now. */
  readers: number;
  /** A newer capture replaced it: close it once no send reads it. */
  retired: boolean;
}

export class DbSnapshotSource implements SnapshotSource {
  private current: Capture | undefined;

  constructor(
    private readonly db: Db,
    /** Which compacted entries hold several batches, so an export sends each once. */
    private readonly refs: EntryRefs,
    /** Damage found while sending (a carried raft entry failing its checksum): the send fails, and the node repairs. */
    private readonly onDamage: (finding: string) => void = () => undefined,
  ) {}

  capture(meta: SnapshotMeta): void {
    const previous = this.current;
    this.current = { meta, snapshot: this.db.snapshot(), readers: 0, retired: false };
    if (previous) {
      previous.retired = true;
      this.closeIfUnread(previous);
    }
  }

  open(): { meta: SnapshotMeta; chunks: AsyncIterable<Buffer> } | undefined {
    if (!this.current) return undefined;
    return { meta: this.current.meta, chunks: this.read(this.current) };
  }

  /** The capture's state; it counts as read from the first chunk asked for until the stream ends. */
  private async *read(capture: Capture): AsyncIterable<Buffer> {
    capture.readers++;
    try {
      yield* exportState(this.db, { snapshot: capture.snapshot, sharedEntry: (index) => this.refs.isShared(index) });
    } catch (err) {
      if (isCorruption(err)) this.onDamage(err instanceof Error ? err.message : String(err));
      throw err;
    } finally {
      capture.readers--;
      this.closeIfUnread(capture);
    }
  }

  private closeIfUnread(capture: Capture): void {
    if (capture.retired && capture.readers === 0) void capture.snapshot.close();
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
