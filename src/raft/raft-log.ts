// The node's log in memory: a compacted prefix (the snapshot point), the persisted entries, and the
// unstable tail the driver has not persisted yet. Entries are kept by reference and never copied; the
// compacted prefix is dropped lazily so that compaction does not shift the array on every call.
import { applyChangeTo, cloneConfState } from "./conf-state";
import { decodeConfChange } from "./conf-change-codec";
import { invariant } from "./invariants";
import { ConfChangeType, ConfState, Entry, EntryType, NodeId, SnapshotMeta } from "./types";

/** Shift the backing array only once at least this many compacted entries sit in front of it. */
const minCompactedEntriesBeforeShift = 1024;

export class RaftLog {
  /** Index and term of the last compacted entry: the snapshot point. */
  private snapIndex: number;
  private snapTerm: number;
  /** Membership as of snapIndex, for the Snap message a lagging follower is sent. */
  private snapConf: ConfState;
  /** ents[head + k] is the entry at index snapIndex + 1 + k. */
  private ents: Entry[];
  private head = 0;

  committed: number;
  /** Highest index the driver applied (acknowledged by advance or accept). */
  applied: number;
  /** Highest index handed out in committedEntries, maybe not yet applied. */
  applying: number;
  /** Entries above this index are not yet persisted. */
  stabled: number;
  /** Entries up to this index (>= stabled) were handed to the driver to persist; a write may still be under way. */
  persisting: number;
  /** A snapshot received from the leader, to be persisted and installed by the driver. */
  pendingSnapshot: SnapshotMeta | undefined;
  /** Bytes of the entries returned by the last entriesFrom or nextCommittedEntries call. */
  lastSliceBytes = 0;

  constructor(snapshot: SnapshotMeta, entries: readonly Entry[], commit: number, applied: number) {
    this.snapIndex = snapshot.index;
    this.snapTerm = snapshot.term;
    this.snapConf = cloneConfState(snapshot.conf);
    this.ents = entries.slice();
    for (let k = 0; k < this.ents.length; k++) {
      if (this.ents[k].index !== snapshot.index + 1 + k) {
        throw new Error(`raft log: entry ${k} has index ${this.ents[k].index}, expected ${snapshot.index + 1 + k}`);
      }
    }
    this.stabled = this.lastIndex();
    this.persisting = this.stabled;
    // A snapshot is applied state and applied entries were committed: the larger index wins, whichever
    // write the driver made durable last.
    const appliedIndex = Math.max(applied, snapshot.index);
    const commitIndex = Math.max(commit, appliedIndex);
    if (commitIndex > this.lastIndex()) {
      throw new Error(`raft log: commit ${commitIndex} beyond the last index ${this.lastIndex()}`);
    }
    this.committed = commitIndex;
    this.applied = appliedIndex;
    this.applying = appliedIndex;
  }

  firstIndex(): number {
    return this.snapIndex + 1;
  }

  lastIndex(): number {
    return this.snapIndex + this.ents.length - this.head;
  }

  lastTerm(): number {
    return this.termOrZero(this.lastIndex());
  }

  /** Index of the last compacted entry: the log starts right after it. */
  snapshotIndex(): number {
    return this.snapIndex;
  }

  /** Was `id` a member (voter or learner) as of the snapshot point? */
  memberAtSnapshot(id: NodeId): boolean {
    return this.snapConf.voters.includes(id) || this.snapConf.learners.includes(id);
  }

  /**
   * Was `id` a member as of the snapshot point, and not removed by any entry since? One removed and
   * added back under the same id may be a new node that never held the snapshot's membership.
   */
  memberSinceSnapshot(id: NodeId): boolean {
    if (!this.memberAtSnapshot(id)) return false;
    for (let k = this.head; k < this.ents.length; k++) {
      const e = this.ents[k];
      if (e.type !== EntryType.ConfChange) continue;
      const cc = decodeConfChange(e.data);
      if (cc.type === ConfChangeType.RemoveVoter && cc.nodeId === id) return false;
    }
    return true;
  }

  snapshotMeta(): SnapshotMeta {
    return { index: this.snapIndex, term: this.snapTerm, conf: cloneConfState(this.snapConf) };
  }

  /** Term of the entry at i, or undefined if i is compacted away or beyond the log. */
  term(i: number): number | undefined {
    if (i === this.snapIndex) return this.snapTerm;
    if (i < this.snapIndex || i > this.lastIndex()) return undefined;
    return this.ents[this.head + i - this.snapIndex - 1].term;
  }

  termOrZero(i: number): number {
    return this.term(i) ?? 0;
  }

  matchTerm(i: number, term: number): boolean {
    return this.term(i) === term;
  }

  /** Raft §5.4.1: is a log ending at (lastIndex, lastTerm) at least as up to date as this one? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /** Entries in [lo, hi). Both ends must be inside the uncompacted log. */
  slice(lo: number, hi: number): Entry[] {
    if (lo >= hi) return [];
    if (lo <= this.snapIndex || hi > this.lastIndex() + 1) {
      throw new RangeError(`raft log: slice [${lo}, ${hi}) outside (${this.snapIndex}, ${this.lastIndex() + 1}]`);
    }
    const base = this.head - this.snapIndex - 1;
    return this.ents.slice(base + lo, base + hi);
  }

  /**
   * Entries from `lo` on, up to `maxBytes` of data but always at least one; undefined if `lo` is
   * compacted. Sets lastSliceBytes.
   */
  entriesFrom(lo: number, maxBytes: number): Entry[] | undefined {
    if (lo <= this.snapIndex) return undefined;
    const last = this.lastIndex();
    this.lastSliceBytes = 0;
    if (lo > last) return [];
    return this.sliceByBytes(lo, last, maxBytes);
  }

  /** The leader appends its own new entries (already numbered lastIndex+1, ...). */
  append(entry: Entry): void {
    this.ents.push(entry);
  }

  /**
   * The follower's side of AppendEntries (Raft §5.3): if the entry at prevIndex has prevTerm, drop any
   * conflicting suffix, append what is new, and advance commit. Returns the last index of the
   * leader's entries in this message, or undefined if the logs do not match at prevIndex.
   */
  maybeAppend(prevIndex: number, prevTerm: number, leaderCommit: number, entries: readonly Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      if (conflict <= this.committed) {
        throw new Error(`raft log: entry ${conflict} conflicts with committed entry (commit ${this.committed})`);
      }
      this.truncateAndAppend(entries, conflict - prevIndex - 1);
    }
    this.commitTo(Math.min(leaderCommit, lastNew));
    return lastNew;
  }

  /**
   * Fast back-off hint: the largest index <= `index` whose term is <= `term`, with that term (0 when the
   * search runs into the compacted prefix).
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let i = Math.min(index, this.lastIndex());
    for (;;) {
      const t = this.term(i);
      if (t === undefined) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
      i--;
    }
  }

  commitTo(i: number): void {
    if (i <= this.committed) return;
    if (i > this.lastIndex()) throw new Error(`raft log: commit ${i} beyond last index ${this.lastIndex()}`);
    this.committed = i;
  }

  /** Entries not yet handed to the driver to persist. */
  unstableEntries(): Entry[] {
    return this.slice(this.persisting + 1, this.lastIndex() + 1);
  }

  /** The driver took the entries through (index, term) to persist; ignored if that entry was replaced meanwhile. */
  persistingTo(index: number, term: number): void {
    if (index > this.persisting && this.matchTerm(index, term)) this.persisting = index;
  }

  /**
   * The driver persisted through (index, term); ignored if that entry was replaced meanwhile. Its writes
   * land in the order it started them, so everything in the log up to a matching entry is persisted too.
   */
  stableTo(index: number, term: number): void {
    if (index > this.stabled && this.matchTerm(index, term)) this.stabled = index;
  }

  hasNextCommittedEntries(): boolean {
    return this.pendingSnapshot === undefined && this.committed > this.applying;
  }

  /** Committed entries not yet handed out, up to `maxBytes` of data but always at least one. Sets lastSliceBytes. */
  nextCommittedEntries(maxBytes: number): Entry[] {
    if (!this.hasNextCommittedEntries()) return [];
    return this.sliceByBytes(Math.max(this.applying, this.snapIndex) + 1, this.committed, maxBytes);
  }

  /** Entries lo..hi (in the log), stopping before `maxBytes` of data but always at least one. Sets lastSliceBytes. */
  private sliceByBytes(lo: number, hi: number, maxBytes: number): Entry[] {
    const base = this.head - this.snapIndex - 1;
    let end = lo;
    let bytes = 0;
    while (end <= hi) {
      const size = this.ents[base + end].data.length;
      if (end > lo && bytes + size > maxBytes) break;
      bytes += size;
      end++;
    }
    this.lastSliceBytes = bytes;
    return this.ents.slice(base + lo, base + end);
  }

  /** Is there a ConfChange entry committed but not yet applied? A node must not campaign then. */
  hasUnappliedConfChange(): boolean {
    const base = this.head - this.snapIndex - 1;
    for (let k = base + Math.max(this.applied, this.snapIndex) + 1; k <= base + this.committed; k++) {
      if (this.ents[k].type === EntryType.ConfChange) return true;
    }
    return false;
  }

  /** The app holds a snapshot at `index`: forget the entries up to it (keeping its term and membership). */
  compact(index: number): void {
    if (index <= this.snapIndex) return;
    if (index > this.applied) throw new RangeError(`raft log: compact ${index} beyond applied ${this.applied}`);
    const base = this.head - this.snapIndex - 1;
    for (let k = base + this.snapIndex + 1; k <= base + index; k++) {
      const e = this.ents[k];
      if (e.type === EntryType.ConfChange) this.snapConf = applyChangeTo(this.snapConf, decodeConfChange(e.data));
    }
    this.snapTerm = this.termOrZero(index);
    this.head += index - this.snapIndex;
    this.snapIndex = index;
    if (this.head >= minCompactedEntriesBeforeShift && this.head * 2 >= this.ents.length) {
      this.ents = this.ents.slice(this.head);
      this.head = 0;
    }
  }

  /** Replace the whole log by a snapshot received from the leader (Raft §7). */
  restore(snapshot: SnapshotMeta): void {
    this.snapIndex = snapshot.index;
    this.snapTerm = snapshot.term;
    this.snapConf = cloneConfState(snapshot.conf);
    this.ents = [];
    this.head = 0;
    this.committed = snapshot.index;
    this.stabled = snapshot.index;
    this.persisting = snapshot.index;
    this.pendingSnapshot = snapshot;
  }

  /** The driver persisted and installed the pending snapshot. */
  snapshotInstalled(index: number): void {
    if (this.pendingSnapshot === undefined || this.pendingSnapshot.index !== index) return;
    this.pendingSnapshot = undefined;
    this.applied = Math.max(this.applied, index);
    this.applying = Math.max(this.applying, index);
  }

  /** applied <= applying <= committed <= last index, and stabled <= persisting <= last index. */
  checkInvariants(): void {
    const last = this.lastIndex();
    invariant(
      this.applied <= this.applying && this.applying <= this.committed && this.committed <= last && this.stabled <= this.persisting && this.persisting <= last,
      () => `raft log: applied ${this.applied}, applying ${this.applying}, committed ${this.committed}, stabled ${this.stabled}, persisting ${this.persisting}, last ${last}`,
    );
  }

  appliedTo(index: number): void {
    if (index > this.committed) throw new Error(`raft log: applied ${index} beyond commit ${this.committed}`);
    if (index > this.applied) this.applied = index;
    if (index > this.applying) this.applying = index;
  }

  private findConflict(entries: readonly Entry[]): number {
    for (let k = 0; k < entries.length; k++) {
      const e = entries[k];
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  private truncateAndAppend(entries: readonly Entry[], from: number): void {
    const first = entries[from].index;
    if (first <= this.lastIndex()) {
      this.ents.length = this.head + first - this.snapIndex - 1;
      this.stabled = Math.min(this.stabled, first - 1);
      this.persisting = Math.min(this.persisting, first - 1);
    }
    for (let k = from; k < entries.length; k++) this.ents.push(entries[k]);
  }
}
