// The leader changes this node has seen, newest last, for the dashboard's timeline. Bounded: the oldest
// entries fall off.
import type { Replica } from "../replica";

export interface LeaderChange {
  atMs: number;
  /** 0 = no leader known from then on. */
  leaderId: number;
  term: number;
}

export const leaderHistoryMax = 100;

export class LeaderHistory {
  private readonly changes: LeaderChange[] = [];

  constructor(replica: Replica<unknown>, now: () => number) {
    let leader = -1;
    const note = (): void => {
      if (replica.leaderId === leader) return;
      leader = replica.leaderId;
      this.changes.push({ atMs: now(), leaderId: leader, term: replica.currentTerm });
      if (this.changes.length > leaderHistoryMax) this.changes.shift();
    };
    note();
    replica.on("role", note);
  }

  list(): readonly LeaderChange[] {
    return this.changes;
  }
}
