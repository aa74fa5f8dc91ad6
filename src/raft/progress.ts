// What the leader knows about one follower's log, and how it is sending to it (etcd's tracker.Progress).
//  probe:     the leader does not know where the follower's log matches; one App at a time, then wait.
//  replicate: the follower is matching; App messages are pipelined, at most maxInflightMsgs unacknowledged.
//  snapshot:  the follower needs a snapshot; nothing is sent until it is reported done or the follower catches up.
import { Inflights } from "./inflights";
import { invariant } from "./invariants";

export type ProgressState = "probe" | "replicate" | "snapshot";

export class Progress {
  /** Highest index known to be replicated on the follower. */
  match = 0;
  /** Next index to send. */
  next: number;
  state: ProgressState = "probe";
  /** In snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from since the last CheckQuorum round (or newly added). */
  recentActive = false;
  /**
   * A snapshot of the log start was sent to this follower, which was not a member there: the membership
   * at the log start is in no entry, so a node added later must learn it from a snapshot once.
   */
  logStartSnapshotSent = false;
  /**
   * The follower refused entries at the leader's log start: it knows no members (a node back on an empty
   * directory, even one that was a member there), so it too needs the log-start snapshot.
   */
  refusedLogStart = false;
  /** In probe state: a probe is out; wait for its answer or a heartbeat response before the next one. */
  probeSent = false;
  readonly inflights: Inflights;

  constructor(
    next: number,
    maxInflightMsgs: number,
    public learner: boolean,
  ) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMsgs);
  }

  becomeProbe(): void {
    // After a snapshot the follower has at least the snapshot; probe from just above it.
    this.next = this.state === "snapshot" ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1;
    this.reset("probe");
    this.checkOrder();
  }

  becomeReplicate(): void {
    this.next = this.match + 1;
    this.reset("replicate");
    this.checkOrder();
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.reset("snapshot");
    this.pendingSnapshot = snapshotIndex;
  }

  /** The follower acknowledged up to n. Returns false for a stale acknowledgement. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    this.checkOrder();
    return updated;
  }

  /**
   * The follower rejected an App whose previous index was `rejected`; `matchHint` is where the leader
   * guesses the logs agree (from the follower's hint). Returns false when the rejection is stale.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === "replicate") {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // In probe state only the answer to the latest probe (sent with previous index next-1) counts.
    if (this.next - 1 !== rejected) return false;
    if (matchHint < this.match) {
      // A follower's answer to the latest probe always reaches back to what it acknowledged, unless it
      // lost its disk (restarted with an empty data dir): start over from what it has, which sends it a
      // snapshot when the leader's log no longer reaches back that far.
      this.match = matchHint;
      this.next = matchHint + 1;
      this.probeSent = false;
      return true;
    }
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    this.checkOrder();
    return true;
  }

  /** An App with `entries` entries ending at `lastIndex` was sent. */
  sentEntries(entries: number, lastIndex: number): void {
    if (this.state === "replicate") {
      if (entries > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex);
        this.checkOrder();
      }
    } else if (this.state === "probe") {
      this.probeSent = true;
    }
  }

  isPaused(): boolean {
    switch (this.state) {
      case "probe":
        return this.probeSent;
      case "replicate":
        return this.inflights.full();
      case "snapshot":
        return true;
    }
  }

  /** The leader never sends a follower what it already acknowledged: match < next. */
  private checkOrder(): void {
    invariant(this.match < this.next, () => `progress match ${this.match} is not below next ${this.next}`);
  }

  private reset(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflights.reset();
  }
}
