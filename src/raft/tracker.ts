// The leader's view of the group: current membership, each member's Progress, and the votes of an election.
import { cloneConfState } from "./conf-state";
import { Progress } from "./progress";
import { majority, quorumMatchIndex, voteResult, VoteResult } from "./quorum";
import { ConfState, NodeId } from "./types";

export class ProgressTracker {
  conf: ConfState;
  readonly progress = new Map<NodeId, Progress>();
  private readonly votes = new Map<NodeId, boolean>();
  private readonly matchScratch: number[] = [];

  constructor(
    conf: ConfState,
    private readonly maxInflightMsgs: number,
  ) {
    this.conf = cloneConfState(conf);
  }

  isVoter(id: NodeId): boolean {
    return this.conf.voters.includes(id);
  }

  /** A fresh Progress for every member, as a new leader (or any new role) starts (etcd's reset). */
  resetProgress(nextIndex: number, selfId: NodeId, selfMatch: number): void {
    this.progress.clear();
    for (const id of this.conf.voters) this.progress.set(id, new Progress(nextIndex, this.maxInflightMsgs, false));
    for (const id of this.conf.learners) this.progress.set(id, new Progress(nextIndex, this.maxInflightMsgs, true));
    const self = this.progress.get(selfId);
    if (self !== undefined) {
      self.match = selfMatch;
      self.recentActive = true;
    }
  }

  /** Switch to `conf`: keep the Progress of members that stay, create one for newcomers. */
  setConf(conf: ConfState, nextIndex: number): void {
    this.conf = cloneConfState(conf);
    const keep = new Set<NodeId>([...conf.voters, ...conf.learners]);
    for (const id of [...this.progress.keys()]) if (!keep.has(id)) this.progress.delete(id);
    for (const id of keep) {
      const learner = !conf.voters.includes(id);
      const pr = this.progress.get(id);
      if (pr !== undefined) {
        pr.learner = learner;
        continue;
      }
      const fresh = new Progress(nextIndex, this.maxInflightMsgs, learner);
      // A newcomer gets a grace period: it must not make CheckQuorum step the leader down at once.
      fresh.recentActive = true;
      this.progress.set(id, fresh);
    }
  }

  /** The highest index on a majority of voters (Raft §5.3). */
  quorumMatch(): number {
    return quorumMatchIndex(this.conf.voters, (id) => this.progress.get(id)?.match ?? 0, this.matchScratch);
  }

  /** CheckQuorum (thesis §6.2): has a majority of voters been heard from recently? */
  quorumActive(): boolean {
    let active = 0;
    for (const id of this.conf.voters) if (this.progress.get(id)?.recentActive === true) active++;
    return active >= majority(this.conf.voters.length);
  }

  resetRecentActive(selfId: NodeId): void {
    for (const [id, pr] of this.progress) pr.recentActive = id === selfId;
  }

  resetVotes(): void {
    this.votes.clear();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): VoteResult {
    return voteResult(this.conf.voters, this.votes);
  }
}
