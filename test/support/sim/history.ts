// What the simulation has observed so far: who led which term, which entries were persisted, committed
// and applied where, which writes were acknowledged and what each read saw. The driver records facts
// here; the checkers read them (and the cluster's durable state) and never write.
//
// Facts of the current step are also listed in `latest`, so that checkers can look only at what changed;
// the indexes below remember the first time each fact was seen, to compare later sightings against.
import { ConfState, NodeId } from "../../../src/raft";
import { EntryKey } from "./entry-key";

export interface PersistedEntryFact {
  index: number;
  term: number;
  key: EntryKey;
  /** Term of the entry just before it in the same node's durable log (a snapshot's term, or 0). */
  prevTerm: number;
}

export interface CommittedEntryFact {
  index: number;
  term: number;
  key: EntryKey;
}

export interface LeaderObservation {
  node: NodeId;
  term: number;
}

export interface PersistObservation {
  node: NodeId;
  entries: PersistedEntryFact[];
}

export interface CommitObservation {
  node: NodeId;
  entries: CommittedEntryFact[];
}

export interface ApplyObservation {
  node: NodeId;
  index: number;
  key: EntryKey;
  /** The node's state machine digest after applying this entry. */
  digest: number;
  /** The node's applied index before this entry. */
  prevApplied: number;
  /** The client write the entry carries, if any. */
  writeId?: number;
}

export interface SnapshotObservation {
  node: NodeId;
  index: number;
  term: number;
  digest: number;
}

export interface ReadDoneObservation {
  readId: number;
  node: NodeId;
  /** The applied index of the state the read was answered from. */
  appliedIndex: number;
}

/** A node raised its own term by campaigning (it became a candidate, or won at once). */
export interface TermStartObservation {
  node: NodeId;
  term: number;
  /** "transfer": a TimeoutNow from its leader made it campaign; "election": its timer or the harness did. */
  cause: "election" | "transfer";
  /** Voters that had granted it a pre-vote for this term, as delivered to it. */
  preVoteGrants: NodeId[];
  /** The voters of its configuration when it campaigned (it counts its own pre-vote too). */
  voters: NodeId[];
}

/**
 * A node granted a (pre-)vote for a term above its own while within the lease of a leader: it led, or
 * had heard from the leader of its current term fewer than an election timeout's ticks ago.
 */
export interface LeasedGrantObservation {
  node: NodeId;
  candidate: NodeId;
  kind: "vote" | "pre-vote";
  term: number;
  /** The leader whose lease it was in. */
  leader: NodeId;
  /** The request claimed to come from a leadership transfer, which may pass leases. */
  claimsTransfer: boolean;
}

/** A leader accepted a proposal while a leadership transfer it had accepted in the same term was under way. */
export interface ProposalDuringTransferObservation {
  node: NodeId;
  term: number;
  index: number;
  transferee: NodeId;
  /** The leader's ticks since it accepted the transfer (the core abandons it after an election timeout). */
  ticksSinceTransfer: number;
  /** Whether the transferee was still a voter in the leader's configuration (else the transfer is void). */
  transfereeIsVoter: boolean;
}

export interface StepObservations {
  leaders: LeaderObservation[];
  persisted: PersistObservation[];
  committed: CommitObservation[];
  applied: ApplyObservation[];
  snapshotsInstalled: SnapshotObservation[];
  readsDone: ReadDoneObservation[];
  /** Writes whose clients were told "certainly not committed". */
  writesLost: number[];
  termStarts: TermStartObservation[];
  leasedGrants: LeasedGrantObservation[];
  proposalsDuringTransfer: ProposalDuringTransferObservation[];
}

export interface ReadRecord {
  node: NodeId;
  startStep: number;
  /** The highest log index of any write acknowledged before this read began (0 if none). */
  ackedIndexBefore: number;
  /** The write that set ackedIndexBefore, for messages. */
  ackedWriteBefore: number;
}

export interface AckRecord {
  writeId: number;
  node: NodeId;
  index: number;
  step: number;
}

interface CommitCheckpoint {
  /** Term of the node that first reported the commit: the term in which the entry was committed. */
  term: number;
  maxIndex: number;
}

export class History {
  step = 0;
  readonly latest: StepObservations = emptyObservations();

  readonly leadersByTerm = new Map<number, NodeId[]>();
  /** First sighting of each (index, term) in any durable log, keyed `${index}/${term}`. */
  readonly persistedAt = new Map<string, { key: EntryKey; prevTerm: number; node: NodeId }>();
  /** Every committed entry, by index, as first reported. */
  readonly committedAt = new Map<number, CommittedEntryFact & { node: NodeId }>();
  maxCommittedIndex = 0;
  private readonly commitCheckpoints: CommitCheckpoint[] = [];
  /** First application of each index, and the digest of the state machine right after it. */
  readonly appliedAt = new Map<number, { key: EntryKey; digest: number; node: NodeId }>();
  readonly acks: AckRecord[] = [];
  /** Every client write applied anywhere, and every write reported lost to its client. */
  readonly appliedWrites = new Set<number>();
  readonly lostWrites = new Set<number>();
  private ackedIndexHighWater = 0;
  private ackedWriteHighWater = 0;
  readonly reads = new Map<number, ReadRecord>();
  /** Membership as of the highest applied conf change anywhere: the configuration quorums are counted in. */
  conf: ConfState;
  confIndex = 0;
  readsDone = 0;
  snapshotsInstalled = 0;
  /** Why each node started each term it campaigned in, keyed `${node}/${term}`. */
  readonly termStartCauses = new Map<string, TermStartObservation["cause"]>();

  constructor(initialConf: ConfState) {
    this.conf = initialConf;
  }

  beginStep(step: number): void {
    this.step = step;
    const l = this.latest;
    l.leaders.length = 0;
    l.persisted.length = 0;
    l.committed.length = 0;
    l.applied.length = 0;
    l.snapshotsInstalled.length = 0;
    l.readsDone.length = 0;
    l.writesLost.length = 0;
    l.termStarts.length = 0;
    l.leasedGrants.length = 0;
    l.proposalsDuringTransfer.length = 0;
  }

  recordLeader(node: NodeId, term: number): void {
    const leaders = this.leadersByTerm.get(term);
    if (leaders === undefined) this.leadersByTerm.set(term, [node]);
    else if (!leaders.includes(node)) leaders.push(node);
    this.latest.leaders.push({ node, term });
  }

  recordPersisted(node: NodeId, entries: PersistedEntryFact[]): void {
    for (const e of entries) {
      const at = `${e.index}/${e.term}`;
      if (!this.persistedAt.has(at)) this.persistedAt.set(at, { key: e.key, prevTerm: e.prevTerm, node });
    }
    this.latest.persisted.push({ node, entries });
  }

  /** `nodeTerm` is the reporting node's current term. */
  recordCommitted(node: NodeId, nodeTerm: number, entries: CommittedEntryFact[]): void {
    for (const e of entries) {
      if (this.committedAt.has(e.index)) continue;
      this.committedAt.set(e.index, { ...e, node });
      if (e.index > this.maxCommittedIndex) {
        this.maxCommittedIndex = e.index;
        const last = this.commitCheckpoints[this.commitCheckpoints.length - 1];
        if (last !== undefined && last.term >= nodeTerm) last.maxIndex = e.index;
        else this.commitCheckpoints.push({ term: nodeTerm, maxIndex: e.index });
      }
    }
    this.latest.committed.push({ node, entries });
  }

  /** The highest index committed in a term below `term` (0 if none): what every leader of `term` must hold. */
  committedBeforeTerm(term: number): number {
    for (let k = this.commitCheckpoints.length - 1; k >= 0; k--) {
      if (this.commitCheckpoints[k].term < term) return this.commitCheckpoints[k].maxIndex;
    }
    return 0;
  }

  recordApplied(observation: ApplyObservation): void {
    if (!this.appliedAt.has(observation.index)) {
      this.appliedAt.set(observation.index, { key: observation.key, digest: observation.digest, node: observation.node });
    }
    if (observation.writeId !== undefined) this.appliedWrites.add(observation.writeId);
    this.latest.applied.push(observation);
  }

  recordSnapshotInstalled(observation: SnapshotObservation): void {
    this.snapshotsInstalled++;
    this.latest.snapshotsInstalled.push(observation);
  }

  recordAck(writeId: number, node: NodeId, index: number): void {
    this.acks.push({ writeId, node, index, step: this.step });
    if (index > this.ackedIndexHighWater) {
      this.ackedIndexHighWater = index;
      this.ackedWriteHighWater = writeId;
    }
  }

  recordLost(writeId: number): void {
    this.lostWrites.add(writeId);
    this.latest.writesLost.push(writeId);
  }

  recordReadStart(readId: number, node: NodeId): void {
    this.reads.set(readId, {
      node,
      startStep: this.step,
      ackedIndexBefore: this.ackedIndexHighWater,
      ackedWriteBefore: this.ackedWriteHighWater,
    });
  }

  recordReadDone(readId: number, node: NodeId, appliedIndex: number): void {
    this.readsDone++;
    this.latest.readsDone.push({ readId, node, appliedIndex });
  }

  recordTermStart(observation: TermStartObservation): void {
    this.termStartCauses.set(`${observation.node}/${observation.term}`, observation.cause);
    this.latest.termStarts.push(observation);
  }

  recordLeasedGrant(observation: LeasedGrantObservation): void {
    this.latest.leasedGrants.push(observation);
  }

  recordProposalDuringTransfer(observation: ProposalDuringTransferObservation): void {
    this.latest.proposalsDuringTransfer.push(observation);
  }

  recordConf(index: number, conf: ConfState): void {
    if (index <= this.confIndex) return;
    this.confIndex = index;
    this.conf = conf;
  }
}

function emptyObservations(): StepObservations {
  return {
    leaders: [],
    persisted: [],
    committed: [],
    applied: [],
    snapshotsInstalled: [],
    readsDone: [],
    writesLost: [],
    termStarts: [],
    leasedGrants: [],
    proposalsDuringTransfer: [],
  };
}
