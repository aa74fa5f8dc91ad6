// Everything a node does while it leads one term: replicate to each follower within its window, commit
// by counting (§5.3–5.4), serve ReadIndex (thesis §6.4), hand leadership over (thesis §3.10) and admit
// proposals within their bounds. Created when the node wins an election; dropped when it stops leading.
import { confChangeProblem } from "./conf-state";
import { encodeConfChange } from "./conf-change-codec";
import { newMessage } from "./messages";
import { Progress } from "./progress";
import { majority } from "./quorum";
import { RaftLog } from "./raft-log";
import { maxPendingReadRequests, ReadOnly } from "./read-only";
import { notLeader, refuse } from "./refusals";
import { ProgressTracker } from "./tracker";
import {
  ConfChange,
  ConfChangeType,
  Entry,
  EntryType,
  Message,
  MessageType,
  NodeId,
  NONE,
  ProposalErrorCode,
  ProposeResult,
  RaftConfig,
  ReadState,
} from "./types";

/** What the leader needs from its node. */
export interface LeaderHost {
  readonly id: NodeId;
  readonly cfg: RaftConfig;
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  send(m: Message): void;
  addReadState(rs: ReadState): void;
}

interface DeferredRead {
  context: string;
  from: NodeId;
}

export class Leader {
  /** The follower leadership is being handed to (NONE when no transfer is under way). */
  transferee: NodeId = NONE;
  private transferElapsedTicks = 0;
  /** No conf change is proposed until the one at this index (at first: the term-start entry) is applied. */
  private pendingConfIndex: number;
  /** Data bytes proposed in this term and not committed yet (bounded by maxUncommittedBytes). */
  private uncommittedBytes = 0;
  private readonly readOnly = new ReadOnly();
  /** Reads that arrived before an entry of this term was committed (thesis §6.4 step 1). */
  private deferredReads: DeferredRead[] = [];

  constructor(
    private readonly host: LeaderHost,
    readonly term: number,
  ) {
    const log = host.log;
    // The term-start no-op commits everything before it and lets reads proceed. Until it is applied no
    // conf change may be proposed: this closes the single-server change bug (Ongaro, raft-dev 2015).
    this.pendingConfIndex = log.lastIndex() + 1;
    log.append({ term, index: log.lastIndex() + 1, type: EntryType.Normal, data: new Uint8Array(0) });
    this.bcastAppend();
  }

  /** One tick of the leader's clock; heartbeats are sent by the node, which owns the heartbeat timer. */
  tick(): void {
    if (this.transferee === NONE) return;
    // A transfer that did not finish within an election timeout is abandoned.
    if (++this.transferElapsedTicks >= this.host.cfg.electionTicks) this.transferee = NONE;
  }

  step(m: Message): void {
    const pr = this.host.tracker.progress.get(m.from);
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

  // ---- replication ------------------------------------------------------------------------------------

  private handleAppResp(m: Message, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      let matchHint = m.rejectHint;
      if (m.rejectHintTerm > 0) matchHint = this.host.log.findConflictByTerm(m.rejectHint, m.rejectHintTerm).index;
      // Every node holding a membership accepts entries right after the leader's log start.
      if (m.index === this.host.log.snapshotIndex()) pr.refusedLogStart = true;
      if (pr.maybeDecrTo(m.index, matchHint)) {
        if (pr.state === "replicate") pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    // An answer at the follower's known match still matters in probe state (the probe succeeded) and in
    // snapshot state (the follower holds the snapshot, e.g. one of the log start at index 0).
    if (!pr.maybeUpdate(m.index) && !(pr.match === m.index && pr.state !== "replicate")) return;
    if (pr.state === "probe") {
      pr.becomeReplicate();
    } else if (pr.state === "snapshot") {
      if (pr.match + 1 >= this.host.log.firstIndex()) {
        pr.becomeProbe();
        pr.becomeReplicate();
      }
    } else {
      pr.inflights.freeLE(m.index);
    }
    if (this.maybeCommit()) this.bcastAppend();
    else if (wasPaused) this.sendAppend(m.from);
    this.fillWindow(m.from);
    if (m.from === this.transferee && pr.match === this.host.log.lastIndex()) this.sendTimeoutNow(m.from);
  }

  private handleHeartbeatResp(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.probeSent = false;
    // The follower is alive but the window stays full: App messages or their answers were probably lost.
    // Freeing one slot lets the next App through; a rejection of it then resets the follower to probe.
    if (pr.state === "replicate" && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (pr.match < this.host.log.lastIndex()) this.sendAppend(m.from);
    if (m.context === undefined) return;
    const acks = this.readOnly.recvAck(m.from, m.context);
    if (acks === undefined) return;
    let voterAcks = 0;
    for (const id of acks) if (this.host.tracker.isVoter(id)) voterAcks++;
    if (voterAcks < majority(this.host.tracker.conf.voters.length)) return;
    for (const req of this.readOnly.advance(m.context)) this.respondToRead(req.index, req.context, req.from);
  }

  /** The node persisted more of its own log: count it towards commit. */
  onPersisted(): void {
    const self = this.host.tracker.progress.get(this.host.id);
    if (self !== undefined && self.maybeUpdate(this.host.log.stabled) && this.maybeCommit()) this.bcastAppend();
  }

  /** Commit by counting replicas, but only an entry of the current term (§5.4.2, Figure 8). */
  maybeCommit(): boolean {
    const log = this.host.log;
    const index = this.host.tracker.quorumMatch();
    if (index <= log.committed || log.term(index) !== this.term) return false;
    log.commitTo(index);
    this.releaseDeferredReads();
    return true;
  }

  private sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  private fillWindow(to: NodeId): void {
    while (this.maybeSendAppend(to, false)) {
      // Each call sends one App; stop when the follower's window is full or nothing is left.
    }
  }

  /** Sends the next App (or a Snap) to `to` unless its progress is paused; returns whether it sent. */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.host.tracker.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const log = this.host.log;
    const prevIndex = pr.next - 1;
    const prevTerm = log.term(prevIndex);
    const entries = prevTerm === undefined ? undefined : log.entriesFrom(pr.next, this.host.cfg.maxMsgBytes);
    if (prevTerm === undefined || entries === undefined || this.needsLogStartSnapshot(to, pr, prevIndex)) {
      return this.maybeSendSnapshot(to, pr);
    }
    if (entries.length === 0 && !sendIfEmpty) return false;
    const m = newMessage(MessageType.App, this.host.id, to, this.term);
    m.index = prevIndex;
    m.logTerm = prevTerm;
    m.entries = entries;
    m.commit = log.committed;
    this.host.send(m);
    pr.sentEntries(entries.length, prevIndex + entries.length);
    return true;
  }

  /**
   * Replicating from the very start of the log to a node that was no member there, or that refused
   * entries there (it knows no members: back on an empty directory): the membership at that point lives
   * only in the snapshot (for a new cluster, the index-0 bootstrap membership), so the node gets it
   * first, once, instead of rebuilding membership from the conf change entries alone.
   */
  private needsLogStartSnapshot(to: NodeId, pr: Progress, prevIndex: number): boolean {
    const log = this.host.log;
    return prevIndex === log.snapshotIndex() && !pr.logStartSnapshotSent && (pr.refusedLogStart || !log.memberAtSnapshot(to));
  }

  /** The entries `to` needs are compacted (Raft §7), or it needs the log start's membership: a snapshot. */
  private maybeSendSnapshot(to: NodeId, pr: Progress): boolean {
    // A follower not heard from lately is probably down; a snapshot to it would likely be wasted.
    if (!pr.recentActive) return false;
    const snapshot = this.host.log.snapshotMeta();
    pr.becomeSnapshot(snapshot.index);
    pr.logStartSnapshotSent = true;
    pr.refusedLogStart = false;
    const m = newMessage(MessageType.Snap, this.host.id, to, this.term);
    m.snapshot = snapshot;
    this.host.send(m);
    return true;
  }

  /** Sends every follower what it lacks, as many App messages as its in-flight window allows. */
  bcastAppend(): void {
    for (const id of this.host.tracker.progress.keys()) {
      if (id === this.host.id) continue;
      this.sendAppend(id);
      this.fillWindow(id);
    }
  }

  /** Heartbeats carry the newest waiting read, so that a lost round is retried by the next one. */
  bcastHeartbeat(context = this.readOnly.lastPendingContext()): void {
    for (const [id, pr] of this.host.tracker.progress) {
      if (id === this.host.id) continue;
      const m = newMessage(MessageType.Heartbeat, this.host.id, id, this.term);
      // Never tell a follower to commit beyond what it is known to hold.
      m.commit = Math.min(pr.match, this.host.log.committed);
      if (context !== undefined) m.context = context;
      this.host.send(m);
    }
  }

  private sendTimeoutNow(to: NodeId): void {
    this.host.send(newMessage(MessageType.TimeoutNow, this.host.id, to, this.term));
  }

  reportSnapshot(to: NodeId, ok: boolean): void {
    const pr = this.host.tracker.progress.get(to);
    if (pr === undefined || pr.state !== "snapshot") return;
    if (!ok) {
      pr.pendingSnapshot = 0;
      pr.logStartSnapshotSent = false;
    }
    pr.becomeProbe();
    // Wait for the follower's answer (or a heartbeat round) before probing again.
    pr.probeSent = true;
  }

  reportUnreachable(to: NodeId): void {
    const pr = this.host.tracker.progress.get(to);
    if (pr !== undefined && pr.state === "replicate") pr.becomeProbe();
  }

  /** Membership changed: drop a transfer to a node that left, commit what a smaller quorum allows, probe newcomers. */
  onConfApplied(): void {
    if (this.transferee !== NONE && !this.host.tracker.isVoter(this.transferee)) this.transferee = NONE;
    this.maybeCommit();
    this.bcastAppend();
  }

  // ---- proposals ----------------------------------------------------------------------------------------

  propose(data: readonly Uint8Array[]): ProposeResult {
    const refusal = this.proposalRefusal();
    if (refusal !== undefined) return refusal;
    let bytes = 0;
    for (let k = 0; k < data.length; k++) bytes += data[k].length;
    if (!this.increaseUncommittedBytes(bytes)) return this.tailFull();
    const log = this.host.log;
    const first = log.lastIndex() + 1;
    for (let k = 0; k < data.length; k++) {
      log.append({ term: this.term, index: first + k, type: EntryType.Normal, data: data[k] });
    }
    this.bcastAppend();
    return { ok: true, index: first, term: this.term };
  }

  proposeConfChange(cc: ConfChange): ProposeResult {
    const refusal = this.proposalRefusal();
    if (refusal !== undefined) return refusal;
    const problem = confChangeProblem(this.host.tracker.conf, cc) ?? this.confChangeTimingProblem(cc);
    if (problem !== undefined) return refuse(ProposalErrorCode.ConfChangeRejected, this.host.id, problem);
    const data = encodeConfChange(cc);
    if (!this.increaseUncommittedBytes(data.length)) return this.tailFull();
    const log = this.host.log;
    const entry: Entry = { term: this.term, index: log.lastIndex() + 1, type: EntryType.ConfChange, data };
    log.append(entry);
    this.pendingConfIndex = entry.index;
    this.bcastAppend();
    return { ok: true, index: entry.index, term: this.term };
  }

  /** Only one change in flight, and a learner becomes a voter only once it has nearly caught up. */
  private confChangeTimingProblem(cc: ConfChange): string | undefined {
    const log = this.host.log;
    if (this.pendingConfIndex > log.applied) {
      return `a membership change is in flight: wait until entry ${this.pendingConfIndex} is applied (applied ${log.applied})`;
    }
    if (cc.type !== ConfChangeType.AddVoter) return undefined;
    const pr = this.host.tracker.progress.get(cc.nodeId);
    if (pr === undefined || !pr.learner) return undefined;
    const lagEntries = log.lastIndex() - pr.match;
    const allowed = this.host.cfg.learnerCatchUpEntries;
    if (lagEntries <= allowed) return undefined;
    return (
      `learner ${cc.nodeId} is not caught up: it holds up to ${pr.match}, the leader ${log.lastIndex()} ` +
      `(${lagEntries} entries behind, at most ${allowed} allowed)`
    );
  }

  private proposalRefusal(): ProposeResult | undefined {
    if (this.transferee !== NONE) {
      return refuse(ProposalErrorCode.TransferInProgress, this.host.id, `leadership is moving to node ${this.transferee}`);
    }
    if (!this.host.tracker.isVoter(this.host.id)) return notLeader(NONE, "this leader was removed from the group");
    return undefined;
  }

  private tailFull(): ProposeResult {
    const limit = this.host.cfg.maxUncommittedBytes;
    return refuse(
      ProposalErrorCode.UncommittedTailFull,
      this.host.id,
      `uncommitted entries hold ${this.uncommittedBytes} bytes (limit ${limit})`,
    );
  }

  /** Bounds the uncommitted tail, but always admits a proposal when the tail is empty. */
  private increaseUncommittedBytes(bytes: number): boolean {
    if (this.uncommittedBytes > 0 && bytes > 0 && this.uncommittedBytes + bytes > this.host.cfg.maxUncommittedBytes) return false;
    this.uncommittedBytes += bytes;
    return true;
  }

  /** Committed entries of `bytes` data were handed to the driver. */
  reduceUncommittedBytes(bytes: number): void {
    this.uncommittedBytes = Math.max(0, this.uncommittedBytes - bytes);
  }

  // ---- reads and transfer ---------------------------------------------------------------------------------

  readIndex(context: string): ProposeResult {
    if (!this.handleReadIndex(context, this.host.id)) {
      return refuse(ProposalErrorCode.ReadQueueFull, this.host.id, `more than ${maxPendingReadRequests} reads are waiting`);
    }
    return { ok: true, index: this.host.log.committed, term: this.term };
  }

  /** Queues a read for a heartbeat round. Returns false when the queue is full. */
  private handleReadIndex(context: string, from: NodeId): boolean {
    if (!this.committedEntryInCurrentTerm()) {
      if (this.deferredReads.length >= maxPendingReadRequests) return false;
      this.deferredReads.push({ context, from });
      return true;
    }
    const voters = this.host.tracker.conf.voters;
    if (voters.length === 1 && voters[0] === this.host.id) {
      // Alone, this node is the quorum: no round needed.
      this.respondToRead(this.host.log.committed, context, from);
      return true;
    }
    if (this.readOnly.size >= maxPendingReadRequests && !this.readOnly.has(context)) return false;
    this.readOnly.add(this.host.log.committed, context, from);
    this.readOnly.recvAck(this.host.id, context);
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
    return this.host.log.term(this.host.log.committed) === this.term;
  }

  private respondToRead(index: number, context: string, from: NodeId): void {
    if (from === this.host.id) {
      this.host.addReadState({ index, context });
      return;
    }
    const m = newMessage(MessageType.ReadIndexResp, this.host.id, from, this.term);
    m.index = index;
    m.context = context;
    this.host.send(m);
  }

  transferLeadership(to: NodeId): ProposeResult {
    const id = this.host.id;
    if (to === id) return refuse(ProposalErrorCode.TransferRejected, id, "this node is already the leader");
    const pr = this.host.tracker.progress.get(to);
    if (pr === undefined) return refuse(ProposalErrorCode.TransferRejected, id, `node ${to} is not a member`);
    if (pr.learner) return refuse(ProposalErrorCode.TransferRejected, id, `node ${to} is a learner`);
    if (this.transferee !== to) {
      this.transferee = to;
      this.transferElapsedTicks = 0;
      if (pr.match === this.host.log.lastIndex()) this.sendTimeoutNow(to);
      else this.sendAppend(to);
    }
    return { ok: true, index: this.host.log.lastIndex(), term: this.term };
  }
}
