// The role state machine of one node (Raft §5, thesis ch. 3, 4, 6 and 9): follower, pre-candidate,
// candidate, leader (whose work lives in leader.ts). Pure and synchronous: messages and ticks go in;
// messages, read states and log changes come out for RawNode to hand to the driver.
import { applyChangeTo, cloneConfState } from "./conf-state";
import { validateRaftConfig } from "./config";
import { Leader } from "./leader";
import { campaignTransferContext, isVoteRequest, newMessage, voteResponseType } from "./messages";
import { RaftLog } from "./raft-log";
import { notLeader } from "./refusals";
import { ProgressTracker } from "./tracker";
import {
  ConfChange,
  ConfState,
  Message,
  MessageType,
  NodeId,
  NONE,
  ProposeResult,
  RaftConfig,
  RaftState,
  Random,
  ReadState,
  Role,
} from "./types";

type CampaignKind = "pre-election" | "election" | "transfer";

export class Raft {
  readonly id: NodeId;
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  term: number;
  vote: NodeId;
  lead: NodeId = NONE;
  role: Role = Role.Follower;
  /** Present exactly while this node leads. */
  leader: Leader | undefined;
  /** Outgoing messages and served reads, drained by RawNode.ready. */
  msgs: Message[] = [];
  readStates: ReadState[] = [];

  /** Ticks since the election timer was reset (followers: since they last heard from the leader). */
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTicks = 0;

  constructor(
    readonly cfg: RaftConfig,
    state: RaftState,
    private readonly random: Random,
  ) {
    validateRaftConfig(cfg);
    this.id = cfg.id;
    this.log = new RaftLog(state.snapshot, state.entries, state.hardState.commit, state.applied);
    this.tracker = new ProgressTracker(state.conf, cfg.maxInflightMsgs);
    this.term = state.hardState.term;
    this.vote = state.hardState.vote;
    this.becomeFollower(this.term, NONE);
  }

  send(m: Message): void {
    this.msgs.push(m);
  }

  addReadState(rs: ReadState): void {
    this.readStates.push(rs);
  }

  /** Only a voter may campaign: learners and removed nodes never disturb the group. */
  promotable(): boolean {
    return this.tracker.isVoter(this.id);
  }

  // ---- roles --------------------------------------------------------------------------------------

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.role = Role.Follower;
    this.lead = lead;
  }

  /** Thesis §9.6: a pre-candidate asks whether it could win before disturbing anyone's term. */
  private becomePreCandidate(): void {
    this.role = Role.PreCandidate;
    this.lead = NONE;
    this.leader = undefined;
    this.tracker.resetVotes();
  }

  private becomeCandidate(): void {
    this.reset(this.term + 1);
    this.role = Role.Candidate;
    this.vote = this.id;
  }

  private becomeLeader(): void {
    this.reset(this.term);
    this.role = Role.Leader;
    this.lead = this.id;
    this.leader = new Leader(this, this.term);
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.leader = undefined;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTicks = this.cfg.electionTicks + Math.floor(this.random() * this.cfg.electionTicks);
    this.tracker.resetVotes();
    // The leader's own match counts only what the driver has persisted.
    this.tracker.resetProgress(this.log.lastIndex() + 1, this.id, this.log.stabled);
  }

  // ---- ticks ----------------------------------------------------------------------------------------

  tick(): void {
    if (this.leader !== undefined) this.tickLeader(this.leader);
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTicks) {
      this.electionElapsed = 0;
      this.hup("election");
    }
  }

  private tickLeader(leader: Leader): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    leader.tick();
    if (this.electionElapsed >= this.cfg.electionTicks) {
      this.electionElapsed = 0;
      // CheckQuorum (thesis §6.2): a leader cut off from a majority stops acting as one.
      if (this.cfg.checkQuorum) {
        if (!this.tracker.quorumActive()) {
          this.becomeFollower(this.term, NONE);
          return;
        }
        this.tracker.resetRecentActive(this.id);
      }
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      leader.bcastHeartbeat();
    }
  }

  // ---- elections ----------------------------------------------------------------------------------

  /** Starts an election if this node may: a voter, not the leader, with no conf change left to apply. */
  hup(kind: "election" | "transfer"): void {
    if (this.role === Role.Leader || !this.promotable()) return;
    if (this.log.hasUnappliedConfChange()) return;
    if (kind === "election" && this.cfg.preVote) this.campaign("pre-election");
    else this.campaign(kind);
  }

  private campaign(kind: CampaignKind): void {
    let voteType: MessageType;
    let voteTerm: number;
    if (kind === "pre-election") {
      this.becomePreCandidate();
      voteType = MessageType.PreVote;
      // The term this node would campaign in; its own term does not change (thesis §9.6).
      voteTerm = this.term + 1;
    } else {
      this.becomeCandidate();
      voteType = MessageType.Vote;
      voteTerm = this.term;
    }
    this.tracker.recordVote(this.id, true);
    if (this.pollVotes()) return;
    for (const voter of this.tracker.conf.voters) {
      if (voter === this.id) continue;
      const m = newMessage(voteType, this.id, voter, voteTerm);
      m.index = this.log.lastIndex();
      m.logTerm = this.log.lastTerm();
      if (kind === "transfer") m.context = campaignTransferContext;
      this.send(m);
    }
  }

  /** Counts the votes so far; returns true when the election is decided. */
  private pollVotes(): boolean {
    const result = this.tracker.tallyVotes();
    if (result === "won") {
      if (this.role === Role.PreCandidate) this.campaign("election");
      else this.becomeLeader();
      return true;
    }
    if (result === "lost") {
      this.becomeFollower(this.term, NONE);
      return true;
    }
    return false;
  }

  private handleVoteRequest(m: Message): void {
    // One vote per term (§5.2); a pre-vote for a future term promises nothing and changes nothing.
    const canVote =
      this.vote === m.from ||
      (this.vote === NONE && this.lead === NONE) ||
      (m.type === MessageType.PreVote && m.term > this.term);
    const resp = newMessage(voteResponseType(m.type), this.id, m.from, this.term);
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      // Answer with the candidate's term so that it recognizes the (pre-)vote as its own.
      resp.term = m.term;
      if (m.type === MessageType.Vote) {
        this.electionElapsed = 0;
        this.vote = m.from;
      } else if (this.role === Role.PreCandidate && m.term === this.term + 1 && m.from < this.id) {
        // Two pre-candidates for the same term (both saw their leader's connection reset) would split the
        // vote that follows; the higher id yields to the lower.
        this.becomeFollower(this.term, NONE);
      }
    } else {
      resp.reject = true;
    }
    this.send(resp);
  }

  // ---- stepping messages ----------------------------------------------------------------------------

  step(m: Message): void {
    if (m.to !== this.id || m.from === this.id || m.from === NONE) return;
    if (m.term > this.term) {
      if (!this.stepHigherTerm(m)) return;
    } else if (m.term < this.term) {
      this.stepLowerTerm(m);
      return;
    }
    if (isVoteRequest(m.type)) {
      this.handleVoteRequest(m);
      return;
    }
    if (this.leader !== undefined) this.leader.step(m);
    else if (this.role === Role.Follower) this.stepFollower(m);
    else this.stepCandidate(m);
  }

  /** Returns false when the message is to be ignored. */
  private stepHigherTerm(m: Message): boolean {
    if (isVoteRequest(m.type)) {
      // Leader lease (thesis §4.2.3): while a live leader is heard from, a (pre-)candidate is most likely
      // a partitioned or removed node, and must not disrupt the group. A transfer campaign is exempt.
      const forced = m.context === campaignTransferContext;
      const inLease = this.cfg.checkQuorum && this.lead !== NONE && this.electionElapsed < this.cfg.electionTicks;
      if (inLease && !forced) return false;
    }
    if (m.type === MessageType.PreVote) return true;
    // A granted pre-vote is for the term we are about to campaign in; nothing to adopt yet.
    if (m.type === MessageType.PreVoteResp && !m.reject) return true;
    const fromLeader = m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap;
    this.becomeFollower(m.term, fromLeader ? m.from : NONE);
    return true;
  }

  private stepLowerTerm(m: Message): void {
    if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === MessageType.Heartbeat || m.type === MessageType.App)) {
      // A stale leader, or this node's term grew while it was cut off and the lease keeps the others from
      // adopting it: answering with our term makes the stale side step down so the group can proceed.
      this.send(newMessage(MessageType.AppResp, this.id, m.from, this.term));
    } else if (m.type === MessageType.PreVote) {
      const resp = newMessage(MessageType.PreVoteResp, this.id, m.from, this.term);
      resp.reject = true;
      this.send(resp);
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case MessageType.App:
      case MessageType.Heartbeat:
      case MessageType.Snap:
        // Someone won this term.
        this.becomeFollower(m.term, m.from);
        this.stepFollower(m);
        return;
      case MessageType.PreVoteResp:
      case MessageType.VoteResp: {
        const expected = this.role === Role.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
        if (m.type !== expected) return;
        // A pre-vote granted in an earlier pre-election (for the term this node has since reached) is no
        // grant for this one: counting it would let a node short of a quorum raise its term.
        if (m.type === MessageType.PreVoteResp && !m.reject && m.term !== this.term + 1) return;
        this.tracker.recordVote(m.from, !m.reject);
        this.pollVotes();
        return;
      }
      default:
        return;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.App:
        this.heardFromLeader(m.from);
        this.handleAppend(m);
        return;
      case MessageType.Heartbeat:
        this.heardFromLeader(m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.heardFromLeader(m.from);
        this.handleSnapshot(m);
        return;
      case MessageType.TimeoutNow:
        // The leader hands over (thesis §3.10): campaign at once, past the others' leases.
        this.hup("transfer");
        return;
      case MessageType.ReadIndex:
        if (this.lead !== NONE) this.send({ ...m, to: this.lead });
        return;
      case MessageType.ReadIndexResp:
        if (m.context !== undefined) this.addReadState({ index: m.index, context: m.context });
        return;
      default:
        return;
    }
  }

  private heardFromLeader(from: NodeId): void {
    this.electionElapsed = 0;
    this.lead = from;
  }

  // ---- follower side of replication ---------------------------------------------------------------------

  /**
   * A node started with no membership at all (a joiner that knows nothing) cannot rebuild membership
   * from conf change entries: the membership they change lives in the leader's snapshot. Until it has
   * one it takes no entries.
   */
  private knowsNoMembers(): boolean {
    return this.tracker.conf.voters.length === 0 && this.tracker.conf.learners.length === 0;
  }

  private handleAppend(m: Message): void {
    const resp = newMessage(MessageType.AppResp, this.id, m.from, this.term);
    if (this.knowsNoMembers()) {
      // Point the leader at our log start, where it sends the snapshot we need.
      resp.reject = true;
      resp.index = m.index;
      resp.rejectHint = this.log.snapshotIndex();
      this.send(resp);
      return;
    }
    if (m.index < this.log.committed) {
      // Everything up to our commit index already matches; tell the leader where to continue.
      resp.index = this.log.committed;
      this.send(resp);
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      resp.index = lastNew;
      this.send(resp);
      return;
    }
    // Fast back-off (§5.3): hint the largest index at or below the probe whose term can still match.
    const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    resp.reject = true;
    resp.index = m.index;
    resp.rejectHint = hint.index;
    resp.rejectHintTerm = hint.term;
    this.send(resp);
  }

  private handleHeartbeat(m: Message): void {
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    const resp = newMessage(MessageType.HeartbeatResp, this.id, m.from, this.term);
    if (m.context !== undefined) resp.context = m.context;
    this.send(resp);
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot;
    if (s === undefined) return;
    const resp = newMessage(MessageType.AppResp, this.id, m.from, this.term);
    // A node without membership takes even a snapshot of its own log start (index 0 for a new cluster).
    const learnsMembership = this.knowsNoMembers() && s.index === this.log.lastIndex() && s.index >= this.log.committed;
    if (s.index <= this.log.committed && !learnsMembership) {
      resp.index = this.log.committed;
    } else if (this.log.matchTerm(s.index, s.term) && !learnsMembership) {
      // We already hold the snapshot's last entry, so everything before it matches too: fast-forward.
      this.log.commitTo(s.index);
      resp.index = this.log.committed;
    } else if (this.log.applying > this.log.applied) {
      // Committed entries handed to the driver and not yet applied must be applied against the membership
      // they were committed under, not the snapshot's: the snapshot waits (the leader sends it again).
      resp.index = this.log.committed;
    } else {
      this.log.restore(s);
      this.tracker.setConf(s.conf, this.log.lastIndex() + 1);
      resp.index = this.log.lastIndex();
    }
    this.send(resp);
  }

  // ---- the API RawNode exposes ------------------------------------------------------------------------------

  propose(data: readonly Uint8Array[]): ProposeResult {
    if (data.length === 0) throw new RangeError("propose: no entries");
    return this.leader?.propose(data) ?? notLeader(this.lead);
  }

  proposeConfChange(cc: ConfChange): ProposeResult {
    return this.leader?.proposeConfChange(cc) ?? notLeader(this.lead);
  }

  transferLeadership(to: NodeId): ProposeResult {
    return this.leader?.transferLeadership(to) ?? notLeader(this.lead);
  }

  readIndex(context: string): ProposeResult {
    if (this.leader !== undefined) return this.leader.readIndex(context);
    if (this.role !== Role.Follower || this.lead === NONE) return notLeader(this.lead, "no known leader to serve the read");
    const m = newMessage(MessageType.ReadIndex, this.id, this.lead, this.term);
    m.context = context;
    this.send(m);
    return { ok: true, index: this.log.committed, term: this.term };
  }

  /** The driver applied a committed ConfChange: it takes effect now (single-server change, thesis §4.1). */
  applyConfChange(cc: ConfChange): ConfState {
    const conf = applyChangeTo(this.tracker.conf, cc);
    this.tracker.setConf(conf, this.log.lastIndex() + 1);
    if (this.leader !== undefined) {
      if (this.promotable()) {
        this.leader.onConfApplied();
      } else {
        // Removed: let the followers learn the change is committed, then stop leading (thesis §4.2.2).
        this.leader.bcastHeartbeat();
        this.becomeFollower(this.term, NONE);
      }
    }
    return cloneConfState(conf);
  }

  /** The driver persisted through log.stabled (RawNode.advance or persisted): a leader counts it towards commit. */
  onPersisted(): void {
    this.leader?.onPersisted();
  }

  /** Committed entries of `bytes` data were handed to the driver. */
  reduceUncommittedBytes(bytes: number): void {
    this.leader?.reduceUncommittedBytes(bytes);
  }

  compact(index: number): void {
    this.log.compact(index);
  }

  reportSnapshot(to: NodeId, ok: boolean): void {
    this.leader?.reportSnapshot(to, ok);
  }

  reportUnreachable(to: NodeId): void {
    this.leader?.reportUnreachable(to);
  }

  /**
   * The driver saw its connection to `from` reset: that process is gone, not merely silent. A follower of
   * `from` forgets it and starts a pre-vote at once instead of waiting out the election timeout. A healthy
   * leader is safe: the other voters keep their lease and ignore the pre-vote until they lose it too.
   */
  leaderConnectionLost(from: NodeId): boolean {
    // Without PreVote and CheckQuorum a false alarm could depose a healthy leader: keep the timeout then.
    if (!this.cfg.preVote || !this.cfg.checkQuorum) return false;
    if (this.role !== Role.Follower || this.lead !== from || from === NONE) return false;
    this.lead = NONE;
    this.hup("election");
    return true;
  }
}
