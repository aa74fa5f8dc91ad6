// Deliberately broken adapters, disks and core wrappers — one per promise — used to prove that the
// checkers catch the bug they guard against. None of them touches src/raft or the replica loop: each bug
// is planted where the loop meets the world (the disk, the network, the clock, the clients, the Ready the
// loop is handed), where a real server could make the same mistake.
import { Entry, EntryType, Message, MessageType, NodeId, NONE, RaftConfig, RaftState, Random, Ready, Role } from "../../../src/raft";
import { campaignTransferContext } from "../../../src/raft/messages";
import type { LoopClock } from "../../../src/server/replica-ports";
import { CheckerName } from "./checkers";
import { ObservedRawNode } from "./observed-core";
import { SimBatch } from "./sim-disk";
import { Plant } from "./simulation";
import { SimNode } from "./sim-node";
import { SimStore } from "./store";

export interface PlantedBug {
  plant: Plant;
  /** The checker that must catch it. */
  caughtBy: CheckerName;
}

/**
 * Grants a vote it already gave to another candidate in the same term (as a driver would that does not
 * persist its vote, or that answers from a stale copy). The candidate's log is still checked, so the
 * only bug is the second vote.
 */
export const votesTwiceInOneTerm: PlantedBug = {
  caughtBy: "election-safety",
  plant: {
    name: "votes twice in one term",
    createNode: (...args) => new DoubleVotingNode(...args),
    tune: (profile) => {
      profile.raft.electionTicks = 4;
      profile.raft.preVote = false;
    },
  },
};

class DoubleVotingNode extends SimNode {
  private readonly voteRequests = new Map<number, Message>();

  override receive(msg: Message, snapshotData: Uint8Array | undefined): void {
    if (msg.type === MessageType.Vote) this.voteRequests.set(msg.from, msg);
    super.receive(msg, snapshotData);
  }

  protected override outgoing(m: Message): Message {
    return this.grantsAnyway(m) ? { ...m, reject: false } : m;
  }

  private grantsAnyway(m: Message): boolean {
    if (m.type !== MessageType.VoteResp || !m.reject) return false;
    const request = this.voteRequests.get(m.to);
    if (request === undefined || request.term !== m.term) return false;
    const lastIndex = this.store.lastIndex();
    const lastTerm = this.store.termAt(lastIndex) ?? 0;
    const upToDate = request.logTerm > lastTerm || (request.logTerm === lastTerm && request.index >= lastIndex);
    const votedForAnother = this.store.hardState.vote !== NONE && this.store.hardState.vote !== m.to;
    return upToDate && votedForAnother;
  }
}

/**
 * Overwrites only the first conflicting entry and keeps the stale ones after it (a disk that "updates"
 * instead of truncating), so the node's log differs before entries that match another node's.
 */
export const keepsStaleSuffix: PlantedBug = {
  caughtBy: "log-matching",
  plant: {
    name: "keeps a stale suffix when overwriting",
    createStore: (conf) => new StaleSuffixStore(conf),
  },
};

class StaleSuffixStore extends SimStore {
  protected override appendEntries(entries: readonly Entry[]): void {
    const keepTail = this.entries.slice(entries[entries.length - 1].index - this.snapshot.index);
    super.appendEntries(entries);
    for (const stale of keepTail) this.entries.push(stale);
  }
}

/**
 * Commits by counting replicas of entries from earlier terms (the leader commits whatever a majority
 * holds, regardless of term), the mistake Raft §5.4.2 and Figure 8 warn about. The driver applies and
 * acknowledges such entries ahead of the core.
 */
export const commitsOldTermByCounting: PlantedBug = {
  caughtBy: "leader-completeness",
  plant: {
    name: "commits an old-term entry by counting replicas",
    createNode: (...args) => new CountingCommitNode(...args),
    tune: (profile) => {
      profile.nodeCount = 5;
      profile.raft.maxMsgBytes = 1;
      profile.raft.maxInflightMsgs = 1;
      profile.nemesis.faultMeanIntervalMs = 20;
      // Its state machine runs ahead of the core's applied index, which compaction must not pass.
      profile.limits.compactEveryEntries = Number.MAX_SAFE_INTEGER;
    },
  },
};

class CountingCommitNode extends SimNode {
  /** The last index this driver handed the loop as committed. */
  private handedThrough = 0;

  protected override shapeReady(rd: Ready): Ready {
    const core = rd.committedEntries;
    if (core.length > 0) this.handedThrough = Math.max(this.handedThrough, core[core.length - 1].index);
    const counted = this.commitByCounting();
    if (counted.length === 0) return rd;
    // Entries already handed out by counting come again from the core: the loop skips what it applied.
    this.handedThrough = counted[counted.length - 1].index;
    this.recordCommitted(counted);
    return { ...rd, committedEntries: [...core, ...counted] };
  }

  private commitByCounting(): Entry[] {
    if (this.role !== Role.Leader) return [];
    const status = this.core().status();
    const matches = status.conf.voters
      .map((id) => (id === this.id ? this.store.lastIndex() : (status.progress.find((p) => p.id === id)?.match ?? 0)))
      .sort((a, b) => b - a);
    const quorumMatch = matches[Math.floor(matches.length / 2)];
    const entries: Entry[] = [];
    // BUG: a majority's match counts for any entry, not just for entries of the leader's own term.
    for (let i = Math.max(this.handedThrough, this.store.snapshotIndex) + 1; i <= Math.min(quorumMatch, this.store.lastIndex()); i++) {
      const entry = this.store.entryAt(i);
      if (entry.type !== EntryType.Normal) break;
      entries.push(entry);
    }
    return entries;
  }
}

/**
 * A disk that reports a write done when it starts: the loop then sends acknowledgements and votes before
 * the state they promise is durable, and a crash meanwhile breaks them.
 */
export const answersBeforePersisting: PlantedBug = {
  caughtBy: "committed-durable",
  plant: {
    name: "answers before persisting",
    createNode: (...args) => new EagerAnsweringNode(...args),
    tune: (profile) => {
      profile.maxDiskWriteMs = 10;
      profile.nemesis.faultMeanIntervalMs = 20;
    },
  },
};

class EagerAnsweringNode extends SimNode {
  // BUG: done is said before the data is on the platter.
  protected override submitWrite(incarnation: number, batch: SimBatch): Promise<void> {
    void super.submitWrite(incarnation, batch);
    return Promise.resolve();
  }
}

/**
 * Counts a Ready's entries as persisted the moment the loop hands their write over, as a driver would
 * that calls advance() where it should call accept(): a leader then counts its own copy towards commit
 * while it is still being written, and a crash meanwhile leaves a "committed" entry on a minority.
 */
export const countsOwnWriteBeforeItLands: PlantedBug = {
  caughtBy: "committed-durable",
  plant: {
    name: "counts its own write before it lands",
    createNode: (...args) => new EarlyPersistingNode(...args),
    tune: (profile) => {
      profile.maxDiskWriteMs = 10;
      profile.nemesis.faultMeanIntervalMs = 20;
    },
  },
};

class EarlyPersistingNode extends SimNode {
  protected override createRawNode(config: RaftConfig, state: RaftState, random: Random): ObservedRawNode {
    return new EarlyPersistingCore(config, state, random, this);
  }
}

class EarlyPersistingCore extends ObservedRawNode {
  override accept(rd: Ready): void {
    super.accept(rd);
    // BUG: handed over is not on disk.
    const last = rd.entries[rd.entries.length - 1];
    if (last !== undefined) this.persisted(last.index, last.term);
  }
}

/** A disk written without fsync: a crash loses the last few entries it was given. */
export const losesUnsyncedTail: PlantedBug = {
  caughtBy: "committed-durable",
  plant: {
    name: "loses the unsynced tail of the log on a crash",
    createStore: (conf) => new UnsyncedStore(conf),
  },
};

const unsyncedEntriesLostOnCrash = 3;

class UnsyncedStore extends SimStore {
  override crash(): void {
    const keep = Math.max(0, this.entries.length - unsyncedEntriesLostOnCrash);
    this.entries.length = keep;
  }
}

/** Hands the loop entries to apply as soon as they are to be persisted, before they commit. */
export const appliesBeforeCommit: PlantedBug = {
  caughtBy: "state-machine-safety",
  plant: {
    name: "applies entries before they commit",
    createNode: (...args) => new EagerApplyingNode(...args),
    tune: (profile) => {
      // Its state machine runs ahead of the core's applied index, which compaction must not pass.
      profile.limits.compactEveryEntries = Number.MAX_SAFE_INTEGER;
    },
  },
};

class EagerApplyingNode extends SimNode {
  private handedThrough = 0;

  protected override shapeReady(rd: Ready): Ready {
    const core = rd.committedEntries;
    if (core.length > 0) this.handedThrough = Math.max(this.handedThrough, core[core.length - 1].index);
    // BUG: persisted is not committed.
    const early: Entry[] = [];
    for (const entry of rd.entries) {
      if (entry.index !== this.handedThrough + 1 || entry.type !== EntryType.Normal) continue;
      early.push(entry);
      this.handedThrough = entry.index;
    }
    return early.length === 0 ? rd : { ...rd, committedEntries: [...core, ...early] };
  }
}

/** Answers reads from its own applied state at once, without asking the leader for a read index. */
export const servesStaleReads: PlantedBug = {
  caughtBy: "linearizable-reads",
  plant: {
    name: "serves reads from local state",
    createNode: (...args) => new LocalReadNode(...args),
  },
};

class LocalReadNode extends SimNode {
  override read(readId: number): boolean {
    const history = this.env.history;
    history.recordReadStart(readId, this.id);
    // BUG: a follower (or a deposed leader) may be behind writes the cluster already acknowledged.
    history.recordReadDone(readId, this.id, this.app.appliedIndex);
    return true;
  }
}

/**
 * Tells clients their writes are lost as soon as their leader steps down — but a new leader may still
 * commit them, and a client that retries then writes twice.
 */
export const failsWritesOnStepDown: PlantedBug = {
  caughtBy: "proposal-outcomes",
  plant: {
    name: "reports open writes lost when its leadership ends",
    createNode: (...args) => new HastyFailingNode(...args),
  },
};

class HastyFailingNode extends SimNode {
  // BUG: losing leadership decides nothing about entries already sent to followers.
  protected override leadershipEnded(): void {
    for (const token of [...this.openProposals]) this.settle(token, "lost");
  }
}

/** A node whose timer never fires: no election timeout, no heartbeat. */
export const neverTicks: PlantedBug = {
  caughtBy: "liveness",
  plant: {
    name: "never ticks",
    createNode: (...args) => new FrozenClockNode(...args),
  },
};

class FrozenClockNode extends SimNode {
  protected override createClock(incarnation: number): LoopClock {
    // BUG: the timer is never started.
    return { ...super.createClock(incarnation), every: () => () => undefined };
  }
}

/**
 * Marks every campaign as a leadership transfer (as a transport that fills in the wrong context would),
 * so a node returning from a partition passes the leases of voters that still hear from their leader.
 */
export const claimsTransferOnEveryCampaign: PlantedBug = {
  caughtBy: "leader-stability",
  plant: {
    name: "marks every campaign as a leadership transfer",
    createNode: (...args) => new ForcedCampaignNode(...args),
    tune: (profile) => {
      profile.raft.preVote = true;
      profile.raft.checkQuorum = true;
      profile.nemesis.faultMeanIntervalMs = 20;
    },
  },
};

class ForcedCampaignNode extends SimNode {
  // BUG: only a campaign that a TimeoutNow started may claim to be a transfer.
  protected override outgoing(m: Message): Message {
    return m.type === MessageType.Vote || m.type === MessageType.PreVote ? { ...m, context: campaignTransferContext } : m;
  }
}

/** Builds its core without PreVote although the cluster is configured with it (a dropped config field). */
export const dropsPreVote: PlantedBug = {
  caughtBy: "term-inflation",
  plant: {
    name: "builds its core without PreVote",
    createNode: (...args) => new NoPreVoteNode(...args),
    tune: (profile) => {
      profile.raft.preVote = true;
    },
  },
};

class NoPreVoteNode extends SimNode {
  protected override createRawNode(config: RaftConfig, state: RaftState, random: Random): ObservedRawNode {
    // BUG: the flag is lost on the way to the core.
    return super.createRawNode({ ...config, preVote: false }, state, random);
  }
}

/**
 * Tells the operator a transfer began but hands it to the core only at its next tick, so proposals that
 * arrive meanwhile are still accepted.
 */
export const defersTransfer: PlantedBug = {
  caughtBy: "transfer-proposals",
  plant: {
    name: "acknowledges a transfer before the core has it",
    createNode: (...args) => new DeferredTransferNode(...args),
  },
};

class DeferredTransferNode extends SimNode {
  private deferredTo: NodeId | undefined;

  override transferLeadership(to: NodeId): void {
    if (this.role !== Role.Leader) return super.transferLeadership(to);
    // BUG: acknowledged now, started later.
    this.deferredTo = to;
    this.noteTransferAccepted(to, this.term);
  }

  override tick(): void {
    const to = this.deferredTo;
    this.deferredTo = undefined;
    if (to !== undefined) super.transferLeadership(to);
    super.tick();
  }
}

export const plantedBugs: readonly PlantedBug[] = [
  votesTwiceInOneTerm,
  keepsStaleSuffix,
  commitsOldTermByCounting,
  answersBeforePersisting,
  losesUnsyncedTail,
  appliesBeforeCommit,
  servesStaleReads,
  failsWritesOnStepDown,
  neverTicks,
  claimsTransferOnEveryCampaign,
  dropsPreVote,
  defersTransfer,
];
