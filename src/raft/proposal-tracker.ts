// Resolves the driver's pending proposals from the committed entries it applies. Pure: no timers; the
// driver adds its own deadline on top.
//
// A proposal (i, t) is committed when the committed entry at i has term t. It is certainly lost once a
// committed entry (j, t') with t' > t and j <= i is seen, because terms only grow along a log (Raft §5.3,
// Log Matching). Until then its fate is open, even if the proposer lost leadership.
import { Entry } from "./types";

export type ProposalOutcome = "committed" | "lost";

export interface ResolvedProposal<T> {
  token: T;
  outcome: ProposalOutcome;
}

interface Tracked<T> {
  index: number;
  term: number;
  token: T;
}

export class ProposalTracker<T> {
  /** Sorted by index; `head` skips the resolved prefix so that resolving does not shift the array. */
  private items: Tracked<T>[] = [];
  private head = 0;
  /** Highest committed index and its term seen so far. */
  private committedIndex = 0;
  private committedTerm = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  track(index: number, term: number, token: T): void {
    const item: Tracked<T> = { index, term, token };
    const last = this.items.length > this.head ? this.items[this.items.length - 1] : undefined;
    if (last === undefined || last.index <= index) {
      this.items.push(item);
      return;
    }
    // Rare: a re-elected leader proposes below an older, still open proposal.
    let lo = this.head;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid].index <= index) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, item);
  }

  /** Feed every committed entry, in order, exactly once. */
  onCommitted(entries: readonly Entry[]): ResolvedProposal<T>[] {
    const resolved: ResolvedProposal<T>[] = [];
    if (entries.length === 0) return resolved;
    let e = 0;
    while (this.head < this.items.length) {
      const item = this.items[this.head];
      while (e < entries.length && entries[e].index < item.index) e++;
      if (e === entries.length) break;
      const entry = entries[e];
      if (entry.index !== item.index) {
        // The committed log skipped item.index (a snapshot). Decidable only if terms already passed it.
        if (entry.term <= item.term) break;
        resolved.push({ token: item.token, outcome: "lost" });
      } else {
        resolved.push({ token: item.token, outcome: entry.term === item.term ? "committed" : "lost" });
      }
      this.head++;
    }
    const last = entries[entries.length - 1];
    const termGrew = last.term > this.committedTerm;
    this.committedIndex = last.index;
    this.committedTerm = last.term;
    if (termGrew) this.dropOvertaken(resolved);
    this.compactResolved();
    return resolved;
  }

  /**
   * Proposals at or below `index` were decided without their entries being seen here (a snapshot, or
   * shutdown with Number.MAX_SAFE_INTEGER): their outcome is unknown. Returns their tokens. After a
   * snapshot, prefer onSnapshot, which also resolves what the snapshot's term proves.
   */
  abandonThrough(index: number): T[] {
    const abandoned: T[] = [];
    while (this.head < this.items.length && this.items[this.head].index <= index) {
      abandoned.push(this.items[this.head].token);
      this.head++;
    }
    this.compactResolved();
    return abandoned;
  }

  /**
   * The driver installed a snapshot whose last entry is (index, term): that entry is committed, but the
   * entries before it were never seen here. A proposal at exactly (index, term) is committed; others at
   * or below index have an unknown outcome; those above it with an older term are certainly lost.
   */
  onSnapshot(index: number, term: number): { resolved: ResolvedProposal<T>[]; unknown: T[] } {
    const resolved: ResolvedProposal<T>[] = [];
    const unknown: T[] = [];
    while (this.head < this.items.length && this.items[this.head].index <= index) {
      const item = this.items[this.head++];
      if (item.index === index && item.term === term) resolved.push({ token: item.token, outcome: "committed" });
      else unknown.push(item.token);
    }
    if (index > this.committedIndex) {
      this.committedIndex = index;
      this.committedTerm = Math.max(this.committedTerm, term);
      this.dropOvertaken(resolved);
    }
    this.compactResolved();
    return { resolved, unknown };
  }

  /** Open proposals above the commit index whose term is below a committed term are certainly lost. */
  private dropOvertaken(resolved: ResolvedProposal<T>[]): void {
    const kept: Tracked<T>[] = [];
    for (let k = this.head; k < this.items.length; k++) {
      const item = this.items[k];
      if (item.index > this.committedIndex && item.term < this.committedTerm) {
        resolved.push({ token: item.token, outcome: "lost" });
      } else {
        kept.push(item);
      }
    }
    this.items = kept;
    this.head = 0;
  }

  private compactResolved(): void {
    // Amortized O(1): only shift once the resolved prefix dominates.
    if (this.head > 0 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
