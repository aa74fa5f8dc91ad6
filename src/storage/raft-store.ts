// Durable raft state: hard state, log entries, snapshot meta and the applied index. Every write goes
// into a chained batch the caller owns and writes, so that one fsync covers a whole Ready (and the
// applied index rides in the same batch as the state changes it covers).
//
// The store mirrors which entries are on disk (their terms, by index) so that overwrites and
// compaction delete exact keys inside the caller's batch: no range clear outside the batch, hence
// no window where a crash leaves a half-deleted log. The mirror advances when an operation is added;
// if the batch's write then fails, the store no longer matches the disk and the process must stop.
//
// A committed entry that carries record batches is also where those batches are stored (EntryRefs):
// compaction moves the log's start past it but keeps its key until the batches are removed.
import type { ConfState, Entry, HardState, RaftState, Ready, SnapshotMeta } from "../raft/types";
import type { BatchOps, Db, DbBatch } from "./db";
import { placeHardState } from "./hard-state-place";
import {
  APPLIED_KEY,
  ENTRY_RANGE,
  HARD_STATE_KEY,
  SNAPSHOT_META_KEY,
  entryIndexOf,
  entryKey,
} from "./keys";
import {
  decodeApplied,
  decodeEntry,
  decodeHardState,
  decodeSnapshotMeta,
  encodeApplied,
  encodeEntry,
  encodeHardState,
  encodeSnapshotMeta,
} from "./raft-codec";
import { StorageCorruption } from "./corruption";
import { EntryRefs } from "./entry-refs";

/** Entries read per iterator step while loading the log. */
const loadReadAheadEntries = 1024;

export class RaftStore {
  /** Which entries hold stored batches; the broker's state fills it when it loads (BrokerMachine). */
  readonly entryRefs = new EntryRefs();

  private constructor(
    private readonly db: Db,
    private snapshot: SnapshotMeta,
    /** Terms of the stored entries snapshot.index + 1 .. lastIndex, in order. */
    private terms: number[],
    private applied: number,
  ) {}

  /**
   * Reads everything raft needs to restart. A new node gets an empty log and a snapshot at index 0
   * carrying `initialConf`.
   */
  static async load(db: Db, initialConf: ConfState): Promise<{ store: RaftStore; state: RaftState }> {
    await placeHardState(db);
    const hsValue = await db.get(HARD_STATE_KEY);
    const metaValue = await db.get(SNAPSHOT_META_KEY);
    const appliedValue = await db.get(APPLIED_KEY);
    const snapshot: SnapshotMeta =
      metaValue === undefined ? { index: 0, term: 0, conf: copyConf(initialConf) } : decodeSnapshotMeta(metaValue);
    const hardState: HardState =
      hsValue === undefined ? { term: 0, vote: 0, commit: 0 } : decodeHardState(hsValue);
    const { applied, conf } =
      appliedValue === undefined ? { applied: snapshot.index, conf: copyConf(snapshot.conf) } : decodeApplied(appliedValue);

    const entries = await readLog(db, snapshot.index);
    const lastIndex = snapshot.index + entries.length;
    // Each of these means LevelDB lost or dropped a write it had acknowledged (a damaged .log record is
    // skipped when LevelDB opens without paranoid checks, which classic-level cannot turn on).
    if (applied < snapshot.index || applied > lastIndex) {
      throw new StorageCorruption(`applied index ${applied} outside the stored log [${snapshot.index}, ${lastIndex}]`);
    }
    if (hardState.commit > lastIndex) {
      throw new StorageCorruption(`commit ${hardState.commit} beyond the last stored entry ${lastIndex}`);
    }
    const newest = entries.length > 0 ? entries[entries.length - 1].term : snapshot.term;
    if (newest > hardState.term) {
      throw new StorageCorruption(`the stored log reaches term ${newest} but the hard state says term ${hardState.term}`);
    }
    // Everything covered by the snapshot or already applied is committed, whatever the stored
    // commit says (the snapshot install and the apply batch do not rewrite the hard state).
    hardState.commit = Math.max(hardState.commit, applied);

    const store = new RaftStore(db, snapshot, entries.map((e) => e.term), applied);
    return { store, state: { hardState, snapshot, entries, applied, conf } };
  }

  /** A batch for the caller to fill with add* calls and write with an explicit `sync`. */
  newBatch(): DbBatch {
    return this.db.batch();
  }

  get firstIndex(): number {
    return this.snapshot.index + 1;
  }

  get lastIndex(): number {
    return this.snapshot.index + this.terms.length;
  }

  /** The term of a stored entry or of the snapshot point; undefined outside [snapshot.index, lastIndex]. */
  termAt(index: number): number | undefined {
    if (index === this.snapshot.index) return this.snapshot.term;
    return this.terms[index - this.firstIndex];
  }

  /** Adds a Ready's snapshot meta, entries and hard state to `batch`. */
  addReady(batch: BatchOps, rd: Ready): void {
    if (rd.snapshot !== undefined) this.addSnapshot(batch, rd.snapshot);
    if (rd.entries.length > 0) this.addEntries(batch, rd.entries);
    if (rd.hardState !== undefined) batch.put(HARD_STATE_KEY, encodeHardState(rd.hardState));
  }

  /** Records the applied index and membership; call with the batch that holds the state writes up to `index`. */
  addApplied(batch: BatchOps, index: number, conf: ConfState): void {
    if (index < this.applied || index > this.lastIndex) {
      throw new Error(`applied index ${index} outside [${this.applied}, ${this.lastIndex}]`);
    }
    this.applied = index;
    batch.put(APPLIED_KEY, encodeApplied(index, conf));
  }

  /**
   * Moves the log's start to `point`, an applied index whose state is in the database (written by an
   * earlier batch), with the term and membership there, and deletes the entries it covers.
   */
  addCompaction(batch: BatchOps, point: SnapshotMeta): void {
    const { index } = point;
    if (index > this.applied || index <= this.snapshot.index) {
      throw new Error(`compaction to ${index}: only an applied index (${this.applied}) past ${this.snapshot.index}`);
    }
    const term = this.termAt(index);
    if (term !== point.term) throw new Error(`compaction to ${index}: term ${point.term}, but the stored entry has ${term}`);
    const meta = copyMeta(point);
    for (let i = this.firstIndex; i <= index; i++) {
      if (!this.entryRefs.compactKeeps(i)) batch.del(entryKey(i));
    }
    this.terms.splice(0, index - this.snapshot.index);
    this.snapshot = meta;
    batch.put(SNAPSHOT_META_KEY, encodeSnapshotMeta(meta));
  }

  /**
   * A Ready's snapshot replaces the log. Its install (snapshot-store.ts) has already replaced the stored
   * entries up to the snapshot with the ones the snapshot carries (those holding stored batches), and
   * dropped the rest of the log unless it holds the snapshot's own entry (same index and term): by Log
   * Matching the entries after it then extend the snapshot's history. Here the mirror follows.
   */
  private addSnapshot(batch: BatchOps, meta: SnapshotMeta): void {
    if (meta.index < this.snapshot.index) {
      throw new Error(`snapshot ${meta.index} is older than the stored snapshot ${this.snapshot.index}`);
    }
    if (meta.index <= this.lastIndex && this.termAt(meta.index) === meta.term) {
      this.terms.splice(0, meta.index - this.snapshot.index);
    } else {
      for (let i = Math.max(this.firstIndex, meta.index + 1); i <= this.lastIndex; i++) batch.del(entryKey(i));
      this.terms = [];
    }
    this.snapshot = copyMeta(meta);
    if (meta.index > this.applied) this.applied = meta.index;
    batch.put(SNAPSHOT_META_KEY, encodeSnapshotMeta(meta));
  }

  /** Appends entries, overwriting a conflicting suffix: stored entries past the new last are deleted. */
  private addEntries(batch: BatchOps, entries: Entry[]): void {
    const first = entries[0].index;
    if (first <= this.snapshot.index || first > this.lastIndex + 1) {
      throw new Error(`entries from ${first} do not attach to the log (${this.snapshot.index}, ${this.lastIndex}]`);
    }
    for (const [i, entry] of entries.entries()) {
      if (entry.index !== first + i) throw new Error(`entries not contiguous at ${entry.index}`);
    }
    const oldLast = this.lastIndex;
    this.terms.length = first - this.firstIndex;
    for (const entry of entries) {
      batch.put(entryKey(entry.index), encodeEntry(entry));
      this.terms.push(entry.term);
    }
    for (let index = this.lastIndex + 1; index <= oldLast; index++) batch.del(entryKey(index));
  }
}

/**
 * Reads the entries after `snapshotIndex`. They must be contiguous: a gap means the database lost a
 * write it acknowledged, which no restart can repair.
 */
async function readLog(db: Db, snapshotIndex: number): Promise<Entry[]> {
  const entries: Entry[] = [];
  const iterator = db.iterator({ gt: entryKey(snapshotIndex), lt: ENTRY_RANGE.lt });
  try {
    for (;;) {
      const page = await iterator.nextv(loadReadAheadEntries);
      if (page.length === 0) return entries;
      for (const [key, value] of page) {
        const index = entryIndexOf(key);
        const expected = snapshotIndex + entries.length + 1;
        if (index !== expected) throw new StorageCorruption(`raft log gap: expected entry ${expected}, found ${index}`);
        const entry = decodeEntry(index, value);
        const previous = entries.length > 0 ? entries[entries.length - 1].term : 0;
        if (entry.term < previous) throw new StorageCorruption(`raft log terms go back at entry ${index}: ${entry.term} after ${previous}`);
        entries.push(entry);
      }
    }
  } finally {
    await iterator.close();
  }
}

function copyConf(conf: ConfState): ConfState {
  return { voters: [...conf.voters], learners: [...conf.learners] };
}

function copyMeta(meta: SnapshotMeta): SnapshotMeta {
  return { index: meta.index, term: meta.term, conf: copyConf(meta.conf) };
}
