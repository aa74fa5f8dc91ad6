// Proposals waiting for their fate: first queued (group commit collects them until the loop's next
// turn), then tracked by (index, term) until commit and apply, a certain loss, or their deadline.
import { ProposalTracker } from "../raft";
import { ReplicaError } from "./replica-errors";

export type Acks = "quorum" | "leader" | "none";

export interface ProposalOutcome<R> {
  /** Raft index of the entry; the result is undefined unless acks is "quorum". */
  index: number;
  result: R | undefined;
}

export interface Pending<R> {
  data: Uint8Array;
  acks: Acks;
  deadlineMs: number;
  index: number;
  resolve(outcome: ProposalOutcome<R>): void;
  reject(err: ReplicaError): void;
  settled: boolean;
}

export class PendingProposals<R> {
  private queued: Pending<R>[] = [];
  private readonly tracker = new ProposalTracker<Pending<R>>();
  /** Tracked proposals that wait for the leader's own fsync (acks=leader), by index. */
  private readonly awaitingFsync: Pending<R>[] = [];
  private readonly open = new Set<Pending<R>>();

  constructor(private readonly maxPending: number) {}

  get size(): number {
    return this.open.size;
  }

  add(p: Pending<R>): boolean {
    if (this.open.size >= this.maxPending) return false;
    this.open.add(p);
    this.queued.push(p);
    return true;
  }

  /** The queued proposals, in order, until their data reaches `maxBytes` (the one that reaches it included). */
  takeQueued(maxBytes = Infinity): Pending<R>[] {
    let bytes = 0;
    let n = 0;
    for (; n < this.queued.length && bytes < maxBytes; n++) {
      if (!this.queued[n].settled) bytes += this.queued[n].data.length;
    }
    const taken = this.queued.slice(0, n);
    this.queued = this.queued.slice(n);
    return taken;
  }

  track(p: Pending<R>, index: number, term: number): void {
    p.index = index;
    if (p.acks === "none") {
      this.settle(p, () => p.resolve({ index, result: undefined }));
      return;
    }
    this.tracker.track(index, term, p);
    if (p.acks === "leader") this.awaitingFsync.push(p);
  }

  /** The leader persisted its log through `lastIndex`: acks=leader proposals up to it are answered. */
  persistedThrough(lastIndex: number): void {
    let k = 0;
    while (k < this.awaitingFsync.length && this.awaitingFsync[k].index <= lastIndex) {
      const p = this.awaitingFsync[k++];
      this.settle(p, () => p.resolve({ index: p.index, result: undefined }));
    }
    if (k > 0) this.awaitingFsync.splice(0, k);
  }

  /** Resolves proposals decided by these committed entries; `results` maps index to apply result. */
  committed(entries: Parameters<ProposalTracker<Pending<R>>["onCommitted"]>[0], results: Map<number, R>, leader: number): void {
    for (const { token: p, outcome } of this.tracker.onCommitted(entries)) {
      if (outcome === "committed") {
        this.settle(p, () => p.resolve({ index: p.index, result: results.get(p.index) }));
      } else {
        this.fail(p, new ReplicaError("LOST", "leadership changed before the write committed; it was not written", leader, true));
      }
    }
  }

  /** A snapshot (index, term) replaced the log: what was pending up to it was decided without us. */
  snapshotInstalled(index: number, term: number, leader: number): void {
    const { resolved, unknown } = this.tracker.onSnapshot(index, term);
    for (const { token: p, outcome } of resolved) {
      if (outcome === "lost") {
        this.fail(p, new ReplicaError("LOST", "leadership changed before the write committed; it was not written", leader, true));
      } else {
        // Committed, but applied inside the snapshot, so its result (offsets) is not known here.
        this.fail(p, new ReplicaError("UNKNOWN_OUTCOME", "the write committed while this node caught up by snapshot; its offsets are unknown", leader, false));
      }
    }
    for (const p of unknown) {
      this.fail(p, new ReplicaError("UNKNOWN_OUTCOME", "a snapshot replaced the log; the write may or may not be committed", leader, false));
    }
  }

  expire(nowMs: number, leader: number): void {
    for (const p of this.open) {
      if (p.deadlineMs > nowMs) continue;
      const sent = p.index > 0;
      this.fail(
        p,
        sent
          ? new ReplicaError("TIMEOUT", "deadline passed before the write committed; it may or may not be committed", leader, false)
          : new ReplicaError("TIMEOUT", "deadline passed before the write was proposed; it was not written", leader, true),
      );
    }
  }

  /**
   * This node stopped leading. Writes not yet in the log certainly did not happen; those already in it
   * may still commit under the next leader, so their callers learn at once that the outcome is unknown
   * (and can retry at the new leader, deduplicated for idempotent producers) instead of waiting out
   * their deadline on a node that can no longer decide.
   */
  leadershipLost(leader: number): void {
    for (const p of this.open) {
      this.fail(
        p,
        p.index > 0
          ? new ReplicaError("UNKNOWN_OUTCOME", "leadership was lost before the write committed; it may or may not be committed", leader, false)
          : new ReplicaError("NOT_LEADER", leader ? `node ${leader} is the leader now` : "leadership was lost; no leader is known yet", leader, true),
      );
    }
    this.queued = [];
  }

  /**
   * The node is shutting down: writes not yet in the log certainly did not happen; those in it may still
   * commit under the next leader.
   */
  stopped(leader: number): void {
    for (const p of this.open) {
      this.fail(
        p,
        p.index > 0
          ? new ReplicaError("UNKNOWN_OUTCOME", "this node shut down before the write committed; it may or may not be committed", leader, false)
          : new ReplicaError("STOPPED", "this node is shutting down; the write was not written", leader, true),
      );
    }
    this.queued = [];
  }


  fail(p: Pending<R>, err: ReplicaError): void {
    this.settle(p, () => p.reject(err));
  }

  private settle(p: Pending<R>, action: () => void): void {
    if (p.settled) return;
    p.settled = true;
    this.open.delete(p);
    action();
  }
}
