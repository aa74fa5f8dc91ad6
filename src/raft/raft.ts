// The role state machine of one node (Raft §5, thesis ch. 3, 4 and 6): follower, pre-candidate,
// candidate, leader. Pure and synchronous: messages and ticks go in; messages, read states and log
// changes come out for RawNode to hand to the driver.
import { applyChangeTo, cloneConfState, confChangeProblem } from "./conf-state";
import { encodeConfChange } from "./conf-change-codec";
import { campaignTransferContext, isVoteRequest, newMessage, voteResponseType } from "./messages";
import { Progress } from "./progress";
import { majority } from "./quorum";
import { RaftLog } from "./raft-log";
import { maxPendingReadRequests, ReadOnly } from "./read-only";
import { ProgressTracker } from "./tracker";
import {
  ConfChange,
  ConfChangeType,
  ConfState,
  Entry,
  EntryType,
  Message,
  MessageType,
  NodeId,
  NONE,
  ProposalErrorCode,
  ProposeResult,
  RaftConfig,
  RaftState,
  Random,
  ReadState,
  Role,
} from "./types";

type CampaignKind = "pre-election" | "election" | "transfer";

interface DeferredRead {
  context: string;
  from: NodeId;
}

export class Raft {
  readonly id: NodeId;
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  term: number;
  vote: NodeId;
  lead: NodeId = NONE;
  role: Role = Role.Follower;
  /** The follower a leadership transfer is handing over to (NONE when no transfer is under way). */
  leadTransferee: NodeId = NONE;
  /** Outgoing messages and served reads, drained by RawNode.ready. */
  msgs: Message[] = [];
  readStates: ReadState[] = [];

  /** Ticks since the last election timeout reset (followers: since they heard from the leader). */
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTicks = 0;
  /** A leader proposes no conf change until the one at this index (or its term-start entry) is applied. */
  private pendingConfIndex = 0;
  /** Data bytes this leader proposed that are not committed yet (bounded by maxUncommittedBytes). */
  private uncommittedBytes = 0;
  private readOnly = new ReadOnly();
  /** Reads that arrived before this leader committed an entry of its own term (thesis §6.4 step 1). */
  private deferredReads: DeferredRead[] = [];

  constructor(
    private readonly cfg: RaftConfig,
    state: RaftState,
    private readonly random: Random,
  ) {
    validateConfig(cfg);
    this.id = cfg.id;
    this.log = new RaftLog(state.snapshot, state.entries, state.hardState.commit, state.applied);
    this.tracker = new ProgressTracker(state.conf, cfg.maxInflightMsgs);
    this.term = state.hardState.term;
    this.vote = state.hardState.vote;
    this.becomeFollower(this.term, NONE);
  }

  // ---- roles --------------------------------------------------------------------------------------

  promotable(): boolean {
    return this.tracker.isVoter(this.id);
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.role = Role.Follower;
    this.lead = lead;
  }

  /** Thesis §9.6: a pre-candidate asks whether it could win before disturbing anyone's term. */
  private becomePreCandidate(): void {
    this.role = Role.PreCandidate;
    this.lead = NONE;
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
    // The term-start no-op (thesis §6.4): commits everything before it and lets reads proceed. Until it
    // is applied no conf change may be proposed (fixes the single-server change bug, Ongaro 2015).
    this.pendingConfIndex = this.log.lastIndex() + 1;
    this.log.append({ term: this.term, index: this.log.lastIndex() + 1, type: EntryType.Normal, data: new Uint8Array(0) });
    this.bcastAppend();
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTicks = this.cfg.electionTicks + Math.floor(this.random() * this.cfg.electionTicks);
    this.leadTransferee = NONE;
    this.tracker.resetVotes();
    // The leader's own match counts only what the driver has persisted.
    this.tracker.resetProgress(this.log.lastIndex() + 1, this.id, this.log.stabled);
    this.pendingConfIndex = 0;
    this.uncommittedBytes = 0;
    this.readOnly = new ReadOnly();
    this.deferredReads = [];
  }

  // ---- ticks ----------------------------------------------------------------------------------------

  tick(): void {
    if (this.role === Role.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTicks) {
      this.electionElapsed = 0;
      this.hup("election");
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
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
      // A transfer that did not finish within an election timeout is abandoned (thesis §3.10).
      if (this.leadTransferee !== NONE) this.leadTransferee = NONE;
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat(this.readOnly.lastPendingContext());
    }
  }

  // ---- elections ----------------------------------------------------------------------------------

  /** Start an election if this node may: a voter, not the leader, with no conf change left to apply. */
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
    switch (this.role) {
      case Role.Leader:
        this.stepLeader(m);
        return;
      case Role.Candidate:
      case Role.PreCandidate:
        this.stepCandidate(m);
        return;
      case Role.Follower:
        this.stepFollower(m);
        return;
    }
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

  private stepLeader(m: Message): void {
    const pr = this.tracker.progress.get(m.from);
    if (pr === undefined) return;
    switch (m.type) {
      case MessageType.AppResp:
        this.handleAppResp(m, pr);
        return;
      case MessageType.HeartbeatResp:
        this.handleHeartbeatResp(m, pr);
        return;
      case MessageType.ReadIndex:
        if (m.context !== undefined) this.handleReadIndex(m.context, m.from);
        return;
      default:
        return;
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case MessageType.App:
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        return;
      case MessageType.Heartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case MessageType.PreVoteResp:
      case MessageType.VoteResp: {
        const expected = this.role === Role.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
        if (m.type !== expected) return;
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
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppend(m);
        return;
      case MessageType.Heartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.electionElapsed = 0;
        this.lead = m.from;
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
        if (m.context !== undefined) this.readStates.push({ index: m.index, context: m.context });
        return;
      default:
        return;
    }
  }

  // ---- follower side of replication ---------------------------------------------------------------------

  private handleAppend(m: Message): void {
    const resp = newMessage(MessageType.AppResp, this.id, m.from, this.term);
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
    // Fast back-off (thesis §5.4.1 optimization): skip every entry whose term cannot match.
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
    if (s.index <= this.log.committed) {
      resp.index = this.log.committed;
    } else if (this.log.matchTerm(s.index, s.term)) {
      // We already hold the snapshot's last entry, so everything before it matches too: fast-forward.
      this.log.commitTo(s.index);
      resp.index = this.log.committed;
    } else {
      this.log.restore(s);
      this.tracker.setConf(s.conf, this.log.lastIndex() + 1);
      resp.index = this.log.lastIndex();
    }
    this.send(resp);
  }

  // ---- leader side of replication -------------------------------------------------------------------

  private handleAppResp(m: Message, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      let matchHint = m.rejectHint;
      if (m.rejectHintTerm > 0) matchHint = this.log.findConflictByTerm(m.rejectHint, m.rejectHintTerm).index;
      if (pr.maybeDecrTo(m.index, matchHint)) {
        if (pr.state === "replicate") pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index) && !(pr.match === m.index && pr.state === "probe")) return;
    if (pr.state === "probe") {
      pr.becomeReplicate();
    } else if (pr.state === "snapshot") {
      if (pr.match + 1 >= this.log.firstIndex()) {
        pr.becomeProbe();
        pr.becomeReplicate();
      }
    } else {
      pr.inflights.freeLE(m.index);
    }
    if (this.maybeCommit()) {
      this.bcastAppend();
    } else if (wasPaused) {
      this.sendAppend(m.from);
    }
    while (this.maybeSendAppend(m.from, false)) {
      // Fill the in-flight window.
    }
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from);
  }

  private handleHeartbeatResp(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.probeSent = false;
    // The follower is alive but the window stays full: App messages or their answers were probably lost.
    // Freeing one slot lets the next App through; a rejection of it then resets the follower to probe.
    if (pr.state === "replicate" && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);
    if (m.context === undefined) return;
    const acks = this.readOnly.recvAck(m.from, m.context);
    if (acks === undefined) return;
    let voterAcks = 0;
    for (const id of acks) if (this.tracker.isVoter(id)) voterAcks++;
    if (voterAcks < majority(this.tracker.conf.voters.length)) return;
    for (const req of this.readOnly.advance(m.context)) this.respondToRead(req.index, req.context, req.from);
  }

  /** The leader persisted its log through `stabled` (RawNode.advance): count it towards commit. */
  onPersisted(): void {
    if (this.role !== Role.Leader) return;
    const self = this.tracker.progress.get(this.id);
    if (self === undefined || !self.maybeUpdate(this.log.stabled)) return;
    if (this.maybeCommit()) this.bcastAppend();
  }

  /** Commit by counting replicas, but only an entry of the current term (§5.4.2, Figure 8). */
  private maybeCommit(): boolean {
    const index = this.tracker.quorumMatch();
    if (index <= this.log.committed || this.log.term(index) !== this.term) return false;
    this.log.commitTo(index);
    this.releaseDeferredReads();
    return true;
  }

  private sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  /** Sends the next App (or a Snap) to `to` unless its progress is paused; returns whether it sent. */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.tracker.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    const entries = prevTerm === undefined ? undefined : this.log.entriesFrom(pr.next, this.cfg.maxMsgBytes);
    if (prevTerm === undefined || entries === undefined) return this.maybeSendSnapshot(to, pr);
    if (entries.length === 0 && !sendIfEmpty) return false;
    const m = newMessage(MessageType.App, this.id, to, this.term);
    m.index = prevIndex;
    m.logTerm = prevTerm;
    m.entries = entries;
    m.commit = this.log.committed;
    this.send(m);
    pr.sentEntries(entries.length, prevIndex + entries.length);
    return true;
  }

  /** The entries `to` needs are compacted: it gets the snapshot instead (Raft §7). */
  private maybeSendSnapshot(to: NodeId, pr: Progress): boolean {
    // A follower not heard from lately is probably down; a snapshot to it would likely be wasted.
    if (!pr.recentActive) return false;
    const snapshot = this.log.snapshotMeta();
    pr.becomeSnapshot(snapshot.index);
    const m = newMessage(MessageType.Snap, this.id, to, this.term);
    m.snapshot = snapshot;
    this.send(m);
    return true;
  }

  /** Sends every follower what it lacks, as many App messages as its in-flight window allows. */
  private bcastAppend(): void {
    for (const id of this.tracker.progress.keys()) {
      if (id === this.id) continue;
      this.sendAppend(id);
      while (this.maybeSendAppend(id, false)) {
        // Fill the in-flight window.
      }
    }
  }

  private bcastHeartbeat(context: string | undefined): void {
    for (const [id, pr] of this.tracker.progress) {
      if (id === this.id) continue;
      const m = newMessage(MessageType.Heartbeat, this.id, id, this.term);
      // Never tell a follower to commit beyond what it is known to hold.
      m.commit = Math.min(pr.match, this.log.committed);
      if (context !== undefined) m.context = context;
      this.send(m);
    }
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send(newMessage(MessageType.TimeoutNow, this.id, to, this.term));
  }

  // ---- proposals ----------------------------------------------------------------------------------------

  propose(data: readonly Uint8Array[]): ProposeResult {
    if (data.length === 0) throw new RangeError("propose: no entries");
    const refusal = this.proposalRefusal();
    if (refusal !== undefined) return refusal;
    let bytes = 0;
    for (let k = 0; k < data.length; k++) bytes += data[k].length;
    if (!this.increaseUncommittedBytes(bytes)) return this.tailFull();
    const first = this.log.lastIndex() + 1;
    for (let k = 0; k < data.length; k++) {
      this.log.append({ term: this.term, index: first + k, type: EntryType.Normal, data: data[k] });
    }
    this.bcastAppend();
    return { ok: true, index: first, term: this.term };
  }

  proposeConfChange(cc: ConfChange): ProposeResult {
    const refusal = this.proposalRefusal();
    if (refusal !== undefined) return refusal;
    const problem = confChangeProblem(this.tracker.conf, cc) ?? this.confChangeTimingProblem(cc);
    if (problem !== undefined) return this.refuse(ProposalErrorCode.ConfChangeRejected, this.id, problem);
    const data = encodeConfChange(cc);
    if (!this.increaseUncommittedBytes(data.length)) return this.tailFull();
    const entry: Entry = { term: this.term, index: this.log.lastIndex() + 1, type: EntryType.ConfChange, data };
    this.log.append(entry);
    this.pendingConfIndex = entry.index;
    this.bcastAppend();
    return { ok: true, index: entry.index, term: this.term };
  }

  /** Only one change in flight, and a learner becomes a voter only once it has nearly caught up. */
  private confChangeTimingProblem(cc: ConfChange): string | undefined {
    if (this.pendingConfIndex > this.log.applied) {
      return `a membership change is in flight: wait until entry ${this.pendingConfIndex} is applied (applied ${this.log.applied})`;
    }
    if (cc.type !== ConfChangeType.AddVoter) return undefined;
    const pr = this.tracker.progress.get(cc.nodeId);
    if (pr === undefined || !pr.learner) return undefined;
    const lagEntries = this.log.lastIndex() - pr.match;
    if (lagEntries > this.cfg.learnerCatchUpEntries) {
      return (
        `learner ${cc.nodeId} is not caught up: it holds up to ${pr.match}, the leader ${this.log.lastIndex()} ` +
        `(${lagEntries} entries behind, at most ${this.cfg.learnerCatchUpEntries} allowed)`
      );
    }
    return undefined;
  }

  readIndex(context: string): ProposeResult {
    if (this.role === Role.Leader) {
      if (!this.handleReadIndex(context, this.id)) {
        return this.refuse(ProposalErrorCode.ReadQueueFull, this.id, `more than ${maxPendingReadRequests} reads are waiting`);
      }
      return { ok: true, index: this.log.committed, term: this.term };
    }
    if (this.role !== Role.Follower || this.lead === NONE) {
      return this.refuse(ProposalErrorCode.NotLeader, this.lead, "no known leader to serve the read");
    }
    const m = newMessage(MessageType.ReadIndex, this.id, this.lead, this.term);
    m.context = context;
    this.send(m);
    return { ok: true, index: this.log.committed, term: this.term };
  }

  /** Leader: queue a read for a heartbeat round. Returns false when the queue is full. */
  private handleReadIndex(context: string, from: NodeId): boolean {
    if (!this.committedEntryInCurrentTerm()) {
      if (this.deferredReads.length >= maxPendingReadRequests) return false;
      this.deferredReads.push({ context, from });
      return true;
    }
    const voters = this.tracker.conf.voters;
    if (voters.length === 1 && voters[0] === this.id) {
      // Alone, this node is the quorum: no round needed.
      this.respondToRead(this.log.committed, context, from);
      return true;
    }
    if (this.readOnly.size >= maxPendingReadRequests && !this.readOnly.has(context)) return false;
    this.readOnly.add(this.log.committed, context, from);
    this.readOnly.recvAck(this.id, context);
    this.bcastHeartbeat(context);
    return true;
  }

  private releaseDeferredReads(): void {
    if (this.deferredReads.length === 0 || !this.committedEntryInCurrentTerm()) return;
    const reads = this.deferredReads;
    this.deferredReads = [];
    for (const r of reads) this.handleReadIndex(r.context, r.from);
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  private respondToRead(index: number, context: string, from: NodeId): void {
    if (from === this.id) {
      this.readStates.push({ index, context });
      return;
    }
    const m = newMessage(MessageType.ReadIndexResp, this.id, from, this.term);
    m.index = index;
    m.context = context;
    this.send(m);
  }

  transferLeadership(to: NodeId): ProposeResult {
    if (this.role !== Role.Leader) return this.refuse(ProposalErrorCode.NotLeader, this.lead, "not the leader");
    if (to === this.id) return this.refuse(ProposalErrorCode.TransferRejected, this.id, "this node is already the leader");
    const pr = this.tracker.progress.get(to);
    if (pr === undefined) return this.refuse(ProposalErrorCode.TransferRejected, this.id, `node ${to} is not a member`);
    if (pr.learner) return this.refuse(ProposalErrorCode.TransferRejected, this.id, `node ${to} is a learner`);
    if (this.leadTransferee !== to) {
      this.leadTransferee = to;
      // The transfer gets one election timeout to finish.
      this.electionElapsed = 0;
      if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(to);
      else this.sendAppend(to);
    }
    return { ok: true, index: this.log.lastIndex(), term: this.term };
  }

  private proposalRefusal(): ProposeResult | undefined {
    if (this.role !== Role.Leader) return this.refuse(ProposalErrorCode.NotLeader, this.lead, "not the leader");
    if (this.leadTransferee !== NONE) {
      return this.refuse(ProposalErrorCode.TransferInProgress, this.id, `leadership is moving to node ${this.leadTransferee}`);
    }
    if (!this.tracker.isVoter(this.id)) return this.refuse(ProposalErrorCode.NotLeader, NONE, "this leader was removed");
    return undefined;
  }

  private refuse(code: ProposalErrorCode, leader: NodeId, message: string): ProposeResult {
    return { ok: false, code, leader, message };
  }

  private tailFull(): ProposeResult {
    return this.refuse(
      ProposalErrorCode.UncommittedTailFull,
      this.id,
      `uncommitted entries hold ${this.uncommittedBytes} bytes (limit ${this.cfg.maxUncommittedBytes})`,
    );
  }

  /** Bounds the uncommitted tail, but always admits a proposal when the tail is empty. */
  private increaseUncommittedBytes(bytes: number): boolean {
    if (this.uncommittedBytes > 0 && bytes > 0 && this.uncommittedBytes + bytes > this.cfg.maxUncommittedBytes) return false;
    this.uncommittedBytes += bytes;
    return true;
  }

  /** Committed entries of `bytes` data were handed to the driver. */
  reduceUncommittedBytes(bytes: number): void {
    if (this.role !== Role.Leader) return;
    this.uncommittedBytes = Math.max(0, this.uncommittedBytes - bytes);
  }

  // ---- membership, snapshots, transport feedback --------------------------------------------------------

  /** The driver applied a committed ConfChange: it takes effect now (single-server change, thesis §4.1). */
  applyConfChange(cc: ConfChange): ConfState {
    const conf = applyChangeTo(this.tracker.conf, cc);
    this.tracker.setConf(conf, this.log.lastIndex() + 1);
    if (this.role === Role.Leader) {
      if (!this.tracker.isVoter(this.id)) {
        // Removed: let the followers learn the change is committed, then stop leading (thesis §4.2.2).
        this.bcastHeartbeat(undefined);
        this.becomeFollower(this.term, NONE);
      } else {
        if (this.leadTransferee !== NONE && !this.tracker.isVoter(this.leadTransferee)) this.leadTransferee = NONE;
        // With fewer voters an entry may already be on a majority; newcomers need their first probe.
        this.maybeCommit();
        this.bcastAppend();
      }
    }
    return cloneConfState(conf);
  }

  compact(index: number): void {
    this.log.compact(index);
  }

  reportSnapshot(to: NodeId, ok: boolean): void {
    if (this.role !== Role.Leader) return;
    const pr = this.tracker.progress.get(to);
    if (pr === undefined || pr.state !== "snapshot") return;
    if (!ok) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    // Wait for the follower's answer (or a heartbeat round) before probing again.
    pr.probeSent = true;
  }

  reportUnreachable(to: NodeId): void {
    if (this.role !== Role.Leader) return;
    const pr = this.tracker.progress.get(to);
    if (pr !== undefined && pr.state === "replicate") pr.becomeProbe();
  }

  private send(m: Message): void {
    this.msgs.push(m);
  }
}

function validateConfig(cfg: RaftConfig): void {
  const positive: [string, number][] = [
    ["id", cfg.id],
    ["electionTicks", cfg.electionTicks],
    ["heartbeatTicks", cfg.heartbeatTicks],
    ["maxMsgBytes", cfg.maxMsgBytes],
    ["maxInflightMsgs", cfg.maxInflightMsgs],
    ["maxUncommittedBytes", cfg.maxUncommittedBytes],
  ];
  for (const [name, value] of positive) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`raft config: ${name} must be a positive integer, got ${value}`);
  }
  if (cfg.heartbeatTicks >= cfg.electionTicks) {
    throw new RangeError(`raft config: heartbeatTicks (${cfg.heartbeatTicks}) must be below electionTicks (${cfg.electionTicks})`);
  }
  if (!Number.isSafeInteger(cfg.learnerCatchUpEntries) || cfg.learnerCatchUpEntries < 0) {
    throw new RangeError(`raft config: learnerCatchUpEntries must be a non-negative integer, got ${cfg.learnerCatchUpEntries}`);
  }
}
