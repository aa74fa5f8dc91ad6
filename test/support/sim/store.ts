// A node's simulated disk: what survives a crash. Every write is atomic and durable once it lands (as a
// LevelDB batch written with { sync: true } would be); a crash loses the writes that had not landed,
// and the term and vote of writes the core did not ask to sync (Ready.mustSync false), which a real disk
// may lose on power failure. Planted-bug tests subclass it to model disks that lie.
import { ConfState, Entry, HardState, NONE, RaftState, Ready, SnapshotMeta } from "../../../src/raft";
import { AppState } from "./app-state";
import { DurableLogView } from "./checkers";

export class SimStore implements DurableLogView {
  hardState: HardState = { term: 0, vote: NONE, commit: 0 };
  snapshot: SnapshotMeta;
  /** Entries after snapshot.index, in order. */
  entries: Entry[] = [];
  /** The state machine, written in the same atomic step as each applied entry. */
  app: AppState;
  /** Term and vote as of the last synced write: what a crash leaves of them. */
  private synced = { term: 0, vote: NONE };

  /** A fresh node: the configuration it was started with, at index 0 (empty for a node joining later). */
  constructor(conf: ConfState) {
    this.snapshot = { index: 0, term: 0, conf };
    this.app = AppState.initial(conf);
  }

  get snapshotIndex(): number {
    return this.snapshot.index;
  }

  get snapshotTerm(): number {
    return this.snapshot.term;
  }

  get commit(): number {
    return this.hardState.commit;
  }

  lastIndex(): number {
    return this.snapshot.index + this.entries.length;
  }

  termAt(index: number): number | undefined {
    if (index === this.snapshot.index) return this.snapshot.term;
    if (index < this.snapshot.index) return undefined;
    return this.entries[index - this.snapshot.index - 1]?.term;
  }

  /** The entry at `index`, which must be in the log (after the snapshot). */
  entryAt(index: number): Entry {
    const entry = this.entries[index - this.snapshot.index - 1];
    if (entry === undefined) throw new RangeError(`no entry ${index} in a log with snapshot ${this.snapshot.index}, last ${this.lastIndex()}`);
    return entry;
  }

  /**
   * Persists one Ready in one atomic write: snapshot (with its app state, unless installed already), then
   * entries, then hard state.
   */
  write(rd: Ready, snapshotData: Uint8Array | undefined): void {
    const snapshot = rd.snapshot;
    if (snapshot !== undefined && (snapshot.index !== this.snapshot.index || snapshot.term !== this.snapshot.term)) {
      if (snapshotData === undefined) throw new Error(`no snapshot data arrived for index ${snapshot.index}`);
      this.installSnapshot(snapshot, snapshotData);
    }
    if (rd.entries.length > 0) this.appendEntries(rd.entries);
    if (rd.hardState !== undefined) this.hardState = { ...rd.hardState };
    if (rd.mustSync) this.synced = { term: this.hardState.term, vote: this.hardState.vote };
  }

  /** Replaces log and state machine with a snapshot, in one atomic write. */
  installSnapshot(meta: SnapshotMeta, data: Uint8Array): void {
    this.snapshot = meta;
    this.entries = [];
    this.app = AppState.decode(data);
  }

  /** A term or vote was written without a sync and would be lost by a crash now. */
  get holdsUnsyncedVote(): boolean {
    return this.synced.term !== this.hardState.term || this.synced.vote !== this.hardState.vote;
  }

  /**
   * Drops the log up to `point`: an applied index at or below the stored state's, with the term there
   * (the state itself stays whole; a snapshot sent to a follower was captured when it landed).
   */
  compactTo(point: SnapshotMeta): void {
    if (point.index > this.app.appliedIndex) throw new Error(`compaction to ${point.index} beyond the stored state at ${this.app.appliedIndex}`);
    if (point.index <= this.snapshot.index) return;
    const term = this.termAt(point.index);
    if (term !== point.term) throw new Error(`compaction to ${point.index} at term ${point.term}, but the stored entry has ${term}`);
    this.entries = this.entries.slice(point.index - this.snapshot.index);
    this.snapshot = point;
  }

  /** What a restarting node reads back. */
  restore(): RaftState {
    return {
      hardState: { ...this.hardState },
      snapshot: this.snapshot,
      entries: this.entries.slice(),
      applied: this.app.appliedIndex,
      conf: this.app.conf,
    };
  }

  /**
   * What a crash does to this disk: a term or vote written without sync is lost (a correct core never
   * asks for that; the commit index may lag, the core recomputes it). Lying disks override this.
   */
  crash(): void {
    this.hardState = { ...this.hardState, term: this.synced.term, vote: this.synced.vote };
  }

  /** Writes entries over any conflicting suffix: everything from the first new index on is replaced. */
  protected appendEntries(entries: readonly Entry[]): void {
    const first = entries[0].index;
    const keep = first - this.snapshot.index - 1;
    if (keep < 0 || keep > this.entries.length) {
      throw new Error(`entries from ${first} do not fit a log with snapshot ${this.snapshot.index}, last ${this.lastIndex()}`);
    }
    this.entries.length = keep;
    for (const e of entries) this.entries.push(e);
  }
}
