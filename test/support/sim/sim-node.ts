// One simulated node: a RawNode driven exactly as a server must drive it, over a simulated disk.
// The driver loop is the contract of Ready (see src/raft/types.ts) written out:
//   persist snapshot + entries + hard state  ->  only then send messages  ->  apply committed entries
//   ->  advance.
// Everything here except `store` is volatile: a crash drops it, a restart rebuilds it from the store.
import {
  ConfChange,
  ConfState,
  decodeConfChange,
  Entry,
  EntryType,
  Message,
  MessageType,
  NodeId,
  NONE,
  ProposalTracker,
  ProposeResult,
  RaftConfig,
  RaftState,
  Random,
  RawNode,
  Ready,
  Role,
} from "../../../src/raft";
import { campaignTransferContext } from "../../../src/raft/messages";
import { decodeWrite, encodeWrite } from "./app-state";
import { NodeView } from "./checkers";
import { entryKey } from "./entry-key";
import { CommittedEntryFact, History, PersistedEntryFact } from "./history";
import { SimStore } from "./store";

export type ProposalToken =
  | { kind: "write"; writeId: number; index: number }
  | { kind: "conf"; change: ConfChange; index: number };

export type ProposalFate = "committed" | "lost" | "unknown";

/** What a node needs from the world around it. */
export interface NodeEnvironment {
  readonly history: History;
  readonly random: Random;
  nowMs(): number;
  /** How long a disk write takes at most; 0 means writes complete within the step that starts them. */
  readonly maxDiskWriteMs: number;
  /** Calls node.writeDone() once the disk finished the write under way. */
  writeLater(node: SimNode): void;
  /** When set, nodes describe what each step did to them (TRACE=1 replays). */
  readonly describe: ((note: string) => void) | undefined;
  /** Hands a message to the network. A Snap carries the sender's app snapshot bytes beside the meta. */
  send(msg: Message, snapshotData: Uint8Array | undefined): void;
  confChangeApplied(node: SimNode, cc: ConfChange): void;
  proposalResolved(node: SimNode, token: ProposalToken, fate: ProposalFate): void;
}

export interface DriverLimits {
  /** Snapshot and compact once this many applied entries sit in the log. */
  compactEveryEntries: number;
  /** A client gives up on a read after this long. */
  readTimeoutMs: number;
  /** Bound on reads waiting on one node. */
  maxPendingReads: number;
  /** Bound on Ready rounds one input may cause; more means the core does not settle. */
  maxReadyRoundsPerInput: number;
}

/** The leader this node last heard from in its current term, and its ticks since (its lease, §6 of the thesis). */
interface Lease {
  leader: NodeId;
  term: number;
  ticks: number;
}

/** A transfer this node accepted as leader; the core abandons it after an election timeout. */
interface TransferUnderWay {
  to: NodeId;
  term: number;
  startTick: number;
}

interface PendingRead {
  readId: number;
  startedMs: number;
  /** Set once the core confirmed a read index. */
  readIndex?: number;
}

export class SimNode implements NodeView {
  protected raw: RawNode | undefined;
  role: Role = Role.Follower;
  leader: NodeId = 0;
  term: number;
  incarnation = 0;
  protected tracker = new ProposalTracker<ProposalToken>();
  protected readonly pendingReads = new Map<string, PendingRead>();
  /** The Ready whose disk write is under way, with the messages that wait for it. */
  protected writing: { rd: Ready; held: Message[] } | undefined;
  /** Snapshot bytes that arrived with Snap messages, by index, until the core asks to install one. */
  protected readonly incomingSnapshots = new Map<number, Uint8Array>();
  /** Ticks of this incarnation. */
  private ticks = 0;
  private lease: Lease | undefined;
  /** Pre-vote grants delivered to this node, by the term they grant. */
  private readonly preVoteGrants = new Map<number, Set<NodeId>>();
  /** (Pre-)vote requests for a higher term that reached this node within a lease: the lease's leader, by request. */
  private readonly leasedRequests = new Map<string, { leader: NodeId; claimsTransfer: boolean }>();
  private transfer: TransferUnderWay | undefined;

  constructor(
    readonly id: NodeId,
    readonly store: SimStore,
    protected readonly config: RaftConfig,
    protected readonly limits: DriverLimits,
    protected readonly env: NodeEnvironment,
  ) {
    this.term = store.hardState.term;
  }

  get up(): boolean {
    return this.raw !== undefined;
  }

  get log(): SimStore {
    return this.store;
  }

  /** A disk write is under way: a crash now loses it. */
  get writeUnderWay(): boolean {
    return this.writing !== undefined;
  }

  get pendingProposals(): number {
    return this.up ? this.tracker.size : 0;
  }

  /** Boots from whatever the store holds. */
  start(): void {
    const state = this.store.restore();
    this.raw = this.createRawNode({ ...this.config, id: this.id }, state, this.env.random);
    this.role = Role.Follower;
    this.leader = 0;
    this.term = state.hardState.term;
    this.incarnation++;
    this.tracker = new ProposalTracker<ProposalToken>();
    this.writing = undefined;
    this.forgetVolatileFacts();
    this.handleReady();
  }

  /** Loses all volatile state; open proposals end with an unknown outcome for their clients. */
  crash(): void {
    if (this.raw === undefined) return;
    this.raw = undefined;
    // A write under way is lost with the process.
    this.writing = undefined;
    const open = this.tracker.abandonThrough(Number.MAX_SAFE_INTEGER);
    for (const token of open) this.env.proposalResolved(this, token, "unknown");
    this.pendingReads.clear();
    this.incomingSnapshots.clear();
    this.forgetVolatileFacts();
    this.role = Role.Follower;
    this.leader = 0;
    this.store.crash();
  }

  tick(): void {
    this.ticks++;
    if (this.lease !== undefined) this.lease.ticks++;
    this.watchTerm("election", () => this.node().tick());
    this.expireReads();
    this.handleReady();
  }

  receive(msg: Message, snapshotData: Uint8Array | undefined): void {
    if (msg.type === MessageType.Snap && msg.snapshot !== undefined && snapshotData !== undefined) {
      this.incomingSnapshots.set(msg.snapshot.index, snapshotData);
    }
    this.noteDelivery(msg);
    this.watchTerm(msg.type === MessageType.TimeoutNow ? "transfer" : "election", () => this.node().step(msg));
    this.noteLeaderHeard(msg);
    this.handleReady();
  }

  proposeWrites(writeIds: readonly number[]): ProposeResult {
    const result = this.node().propose(writeIds.map(encodeWrite));
    if (result.ok) {
      this.noteProposalAccepted(result.index, result.term);
      writeIds.forEach((writeId, k) => this.tracker.track(result.index + k, result.term, { kind: "write", writeId, index: result.index + k }));
    }
    this.handleReady();
    return result;
  }

  proposeConfChange(change: ConfChange): ProposeResult {
    const result = this.node().proposeConfChange(change);
    if (result.ok) {
      this.noteProposalAccepted(result.index, result.term);
      this.tracker.track(result.index, result.term, { kind: "conf", change, index: result.index });
    }
    this.handleReady();
    return result;
  }

  /** Starts a linearizable read; false when it was refused at once or too many are waiting. */
  read(readId: number): boolean {
    if (this.pendingReads.size >= this.limits.maxPendingReads) return false;
    this.env.history.recordReadStart(readId, this.id);
    const context = `r${readId}`;
    const result = this.node().readIndex(context);
    if (result.ok) this.pendingReads.set(context, { readId, startedMs: this.env.nowMs() });
    this.handleReady();
    return result.ok;
  }

  transferLeadership(to: NodeId): ProposeResult {
    const result = this.node().transferLeadership(to);
    if (result.ok) this.noteTransferAccepted(to, result.term);
    this.handleReady();
    return result;
  }

  campaign(): void {
    this.watchTerm("election", () => this.node().campaign());
    this.handleReady();
  }

  reportSnapshot(to: NodeId, ok: boolean): void {
    this.node().reportSnapshot(to, ok);
    this.handleReady();
  }

  reportUnreachable(to: NodeId): void {
    this.node().reportUnreachable(to);
    this.handleReady();
  }

  connectionLost(from: NodeId): void {
    this.node().leaderConnectionLost(from);
    this.handleReady();
  }

  /** Plants wrap or subclass the core here; the real driver uses it as is. */
  protected createRawNode(config: RaftConfig, state: RaftState, random: Random): RawNode {
    return new RawNode(config, state, random);
  }

  protected node(): RawNode {
    if (this.raw === undefined) throw new Error(`node ${this.id} is down`);
    return this.raw;
  }

  /**
   * Drains every Ready the last input caused. Inputs that arrive while a write is under way go into the
   * core's next Ready (the contract allows tick, step and propose between ready() and advance()).
   */
  protected handleReady(): void {
    const raw = this.raw;
    if (raw === undefined || this.writing !== undefined) return;
    for (let round = 0; raw.hasReady(); round++) {
      if (round >= this.limits.maxReadyRoundsPerInput) {
        throw new Error(`node ${this.id} still has a Ready after ${round} rounds: the core does not settle`);
      }
      const rd = raw.ready();
      this.observeState(rd);
      if (rd.mustSync && this.env.maxDiskWriteMs > 0) {
        this.startWrite(rd);
        this.serveReads();
        return;
      }
      this.completeReady(rd, rd.messages);
    }
    this.serveReads();
    this.maybeCompact();
  }

  /**
   * The disk takes a while. Meanwhile only a leader's replication messages may leave: they acknowledge
   * nothing, and the leader counts its own log only once it is durable (Raft thesis §10.2.1). Votes and
   * append acknowledgements wait for the disk, or a crash could make this node promise twice (Raft
   * Figure 2).
   */
  private startWrite(rd: Ready): void {
    const early: Message[] = [];
    const held: Message[] = [];
    for (const msg of rd.messages) (this.leavesBeforeWrite(msg) ? early : held).push(msg);
    this.sendMessages(early);
    this.writing = { rd, held };
    this.env.writeLater(this);
  }

  /** The disk finished the write under way: the rest of the Ready can proceed. */
  writeDone(): void {
    const writing = this.writing;
    if (writing === undefined || this.raw === undefined) return;
    this.writing = undefined;
    this.completeReady(writing.rd, writing.held);
    this.handleReady();
  }

  /** Durable first, then speak, then apply, then advance: the order the Ready contract demands. */
  protected completeReady(rd: Ready, messages: readonly Message[]): void {
    this.persist(rd);
    this.sendMessages(messages);
    this.applyCommitted(rd);
    this.noteReadStates(rd);
    this.node().advance(rd);
  }

  /** Which messages may leave before the Ready's write is durable. */
  protected leavesBeforeWrite(msg: Message): boolean {
    return msg.type === MessageType.App || msg.type === MessageType.Heartbeat || msg.type === MessageType.TimeoutNow;
  }

  protected observeState(rd: Ready): void {
    if (rd.hardState !== undefined) this.term = rd.hardState.term;
    if (rd.softState !== undefined) {
      const becameLeader = rd.softState.role === Role.Leader && this.role !== Role.Leader;
      this.role = rd.softState.role;
      this.leader = rd.softState.leader;
      if (becameLeader) this.env.history.recordLeader(this.id, this.term);
    }
    const describe = this.env.describe;
    if (describe !== undefined) this.describeReady(rd, describe);
  }

  private describeReady(rd: Ready, describe: (note: string) => void): void {
    const parts: string[] = [];
    if (rd.softState !== undefined) parts.push(`${Role[rd.softState.role]} (leader ${rd.softState.leader})`);
    if (rd.hardState !== undefined) parts.push(`hs ${rd.hardState.term}/${rd.hardState.vote}/${rd.hardState.commit}`);
    if (rd.snapshot !== undefined) parts.push(`snapshot ${rd.snapshot.index}/${rd.snapshot.term}`);
    if (rd.entries.length > 0) parts.push(`persist ${rd.entries[0].index}..${rd.entries[rd.entries.length - 1].index} t${rd.entries[rd.entries.length - 1].term}`);
    if (rd.committedEntries.length > 0) parts.push(`apply ${rd.committedEntries[0].index}..${rd.committedEntries[rd.committedEntries.length - 1].index}`);
    if (rd.messages.length > 0) parts.push(`send ${rd.messages.length}`);
    if (parts.length > 0) describe(`n${this.id}: ${parts.join(", ")}`);
  }

  protected persist(rd: Ready): void {
    const snapshotData = rd.snapshot === undefined ? undefined : this.incomingSnapshots.get(rd.snapshot.index);
    this.store.write(rd, snapshotData);
    if (rd.snapshot !== undefined) this.afterSnapshotInstalled(rd.snapshot.index, rd.snapshot.term);
    if (rd.entries.length > 0) this.env.history.recordPersisted(this.id, this.durableFactsFrom(rd.entries[0].index));
  }

  protected sendMessages(messages: readonly Message[]): void {
    for (const msg of messages) {
      if ((msg.type === MessageType.VoteResp || msg.type === MessageType.PreVoteResp) && !msg.reject) this.noteGrant(msg);
      let snapshotData: Uint8Array | undefined;
      if (msg.type === MessageType.Snap) {
        if (msg.snapshot === undefined || msg.snapshot.index !== this.store.snapshot.index) {
          throw new Error(
            `node ${this.id} sends a snapshot at ${msg.snapshot?.index} but its stored snapshot is at ${this.store.snapshot.index}`,
          );
        }
        snapshotData = this.store.snapshotData;
      }
      this.env.send(msg, snapshotData);
    }
  }

  protected applyCommitted(rd: Ready): void {
    if (rd.committedEntries.length > 0) this.commitEntries(rd.committedEntries);
  }

  /** Applies committed entries in order, then tells the clients whose proposals they decide. */
  protected commitEntries(entries: readonly Entry[]): void {
    for (const entry of entries) this.applyEntry(entry);
    const facts: CommittedEntryFact[] = entries.map((e) => ({ index: e.index, term: e.term, key: entryKey(e) }));
    this.env.history.recordCommitted(this.id, this.term, facts);
    for (const { token, outcome } of this.tracker.onCommitted(entries)) {
      const writeThere = (index: number) => {
        const entry = entries[index - entries[0].index];
        return entry !== undefined && entry.type === EntryType.Normal ? decodeWrite(entry.data) : undefined;
      };
      this.settle(token, outcome, writeThere);
    }
  }

  /**
   * Tells the proposal's client its fate. A committed write is acknowledged — it is committed and this
   * node applied it — after checking that the applied entry at its index is indeed that write.
   */
  protected settle(token: ProposalToken, fate: ProposalFate, writeAppliedAt: (index: number) => number | undefined): void {
    if (token.kind === "write" && fate === "committed") {
      if (writeAppliedAt(token.index) !== token.writeId) {
        throw new Error(`node ${this.id}: write ${token.writeId} resolved as committed at index ${token.index}, which holds another entry`);
      }
      this.env.history.recordAck(token.writeId, this.id, token.index);
    }
    if (token.kind === "write" && fate === "lost") this.env.history.recordLost(token.writeId);
    this.env.proposalResolved(this, token, fate);
  }

  protected applyEntry(entry: Entry): void {
    const app = this.store.app;
    const prevApplied = app.appliedIndex;
    if (entry.type === EntryType.ConfChange) {
      const change = decodeConfChange(entry.data);
      const conf = copyConf(this.node().applyConfChange(change));
      app.apply(entry, conf);
      this.env.history.recordConf(entry.index, conf);
      this.env.confChangeApplied(this, change);
    } else {
      app.apply(entry);
    }
    const writeId = entry.type === EntryType.Normal && entry.data.length > 0 ? decodeWrite(entry.data) : undefined;
    this.env.history.recordApplied({ node: this.id, index: entry.index, key: entryKey(entry), digest: app.digest, prevApplied, writeId });
  }

  protected noteReadStates(rd: Ready): void {
    for (const rs of rd.readStates) {
      const pending = this.pendingReads.get(rs.context);
      if (pending !== undefined) pending.readIndex = rs.index;
    }
  }

  /** Answers every confirmed read whose index the state machine has reached. */
  protected serveReads(): void {
    const applied = this.store.app.appliedIndex;
    for (const [context, read] of this.pendingReads) {
      if (read.readIndex === undefined || read.readIndex > applied) continue;
      this.pendingReads.delete(context);
      this.env.history.recordReadDone(read.readId, this.id, applied);
    }
  }

  protected maybeCompact(): void {
    const raw = this.raw;
    if (raw === undefined) return;
    if (this.store.app.appliedIndex - this.store.snapshot.index < this.limits.compactEveryEntries) return;
    this.store.compactToApplied();
    raw.compact(this.store.snapshot.index);
  }

  private afterSnapshotInstalled(index: number, term: number): void {
    // Snapshots that arrived meanwhile for later indexes may still be installed by a later Ready.
    for (const pending of this.incomingSnapshots.keys()) if (pending <= index) this.incomingSnapshots.delete(pending);
    const app = this.store.app;
    this.env.history.recordSnapshotInstalled({ node: this.id, index, term, digest: app.digest });
    // The snapshot's last entry is committed; a proposal there is decided, and so are older-term ones
    // above it (lost); the rest at or below it were decided unseen.
    const { resolved, unknown } = this.tracker.onSnapshot(index, term);
    for (const token of unknown) this.env.proposalResolved(this, token, "unknown");
    const lastWrite = (at: number) => (at === index ? app.writes[app.writes.length - 1] : undefined);
    for (const { token, outcome } of resolved) this.settle(token, outcome, lastWrite);
  }

  /** What the disk now holds from `index` on, as read back from it (a lying disk shows here). */
  private durableFactsFrom(index: number): PersistedEntryFact[] {
    const store = this.store;
    const facts: PersistedEntryFact[] = [];
    let prevTerm = store.termAt(index - 1) ?? 0;
    for (let i = index; i <= store.lastIndex(); i++) {
      const e = store.entryAt(i);
      facts.push({ index: i, term: e.term, key: entryKey(e), prevTerm });
      prevTerm = e.term;
    }
    return facts;
  }

  // ---- facts for the availability checkers ---------------------------------------------------------

  private forgetVolatileFacts(): void {
    this.ticks = 0;
    this.lease = undefined;
    this.preVoteGrants.clear();
    this.leasedRequests.clear();
    this.transfer = undefined;
  }

  /** Runs one input of the core and records it when the node started a new term by campaigning. */
  private watchTerm(cause: "election" | "transfer", input: () => void): void {
    const raw = this.node();
    const before = raw.basicStatus().term;
    input();
    const after = raw.basicStatus();
    if (after.term <= before || (after.role !== Role.Candidate && after.role !== Role.Leader)) return;
    const voters = raw.status().conf.voters;
    const grants = this.preVoteGrants.get(after.term);
    const preVoteGrants = grants === undefined ? [] : [...grants].filter((id) => voters.includes(id));
    this.env.history.recordTermStart({ node: this.id, term: after.term, cause, preVoteGrants, voters });
    for (const term of this.preVoteGrants.keys()) if (term <= after.term) this.preVoteGrants.delete(term);
  }

  /** Before the core sees a message: pre-vote grants it collects, and vote requests that reach it in a lease. */
  private noteDelivery(msg: Message): void {
    if (msg.type === MessageType.PreVoteResp && !msg.reject) {
      const grants = this.preVoteGrants.get(msg.term) ?? new Set<NodeId>();
      grants.add(msg.from);
      this.preVoteGrants.set(msg.term, grants);
      return;
    }
    if (msg.type !== MessageType.Vote && msg.type !== MessageType.PreVote) return;
    const status = this.node().basicStatus();
    const key = requestKey(msg.type, msg.from, msg.term);
    const leader = msg.term > status.term ? this.leaseHolder(status.term, status.leader, status.role) : undefined;
    // The latest copy of a request decides: a copy that arrives outside the lease may be granted.
    if (leader === undefined) {
      this.leasedRequests.delete(key);
      return;
    }
    if (this.leasedRequests.size >= maxLeasedRequests) this.leasedRequests.clear();
    this.leasedRequests.set(key, { leader, claimsTransfer: msg.context === campaignTransferContext });
  }

  /** The leader whose lease this node is in: itself while it leads, else the leader it heard from lately. */
  private leaseHolder(term: number, leader: NodeId, role: Role): NodeId | undefined {
    if (role === Role.Leader) return this.id;
    const lease = this.lease;
    if (lease === undefined || leader === NONE || lease.leader !== leader || lease.term !== term) return undefined;
    return lease.ticks < this.config.electionTicks ? leader : undefined;
  }

  /** After the core took a leader's message: a follower of that leader in its term starts a new lease. */
  private noteLeaderHeard(msg: Message): void {
    if (msg.type !== MessageType.App && msg.type !== MessageType.Heartbeat && msg.type !== MessageType.Snap) return;
    if (this.raw === undefined) return;
    const status = this.raw.basicStatus();
    if (status.term !== msg.term || status.leader !== msg.from || status.role !== Role.Follower) return;
    this.lease = { leader: msg.from, term: msg.term, ticks: 0 };
    this.leasedRequests.clear();
  }

  private noteGrant(resp: Message): void {
    const requestType = resp.type === MessageType.VoteResp ? MessageType.Vote : MessageType.PreVote;
    const key = requestKey(requestType, resp.to, resp.term);
    const leased = this.leasedRequests.get(key);
    if (leased === undefined) return;
    this.leasedRequests.delete(key);
    this.env.history.recordLeasedGrant({
      node: this.id,
      candidate: resp.to,
      kind: requestType === MessageType.Vote ? "vote" : "pre-vote",
      term: resp.term,
      leader: leased.leader,
      claimsTransfer: leased.claimsTransfer,
    });
  }

  /** A transfer to the node already being handed leadership continues; any other starts afresh. */
  protected noteTransferAccepted(to: NodeId, term: number): void {
    const current = this.transfer;
    const ongoing = current !== undefined && current.to === to && current.term === term && this.ticks - current.startTick < this.config.electionTicks;
    if (!ongoing) this.transfer = { to, term, startTick: this.ticks };
  }

  private noteProposalAccepted(index: number, term: number): void {
    const transfer = this.transfer;
    if (transfer === undefined || transfer.term !== term) return;
    this.env.history.recordProposalDuringTransfer({
      node: this.id,
      term,
      index,
      transferee: transfer.to,
      ticksSinceTransfer: this.ticks - transfer.startTick,
      transfereeIsVoter: this.node().status().conf.voters.includes(transfer.to),
    });
  }

  private expireReads(): void {
    const oldestMs = this.env.nowMs() - this.limits.readTimeoutMs;
    for (const [context, read] of this.pendingReads) {
      if (read.startedMs < oldestMs) this.pendingReads.delete(context);
    }
  }
}

/** Bound on remembered leased requests; they are forgotten whenever the lease is renewed. */
const maxLeasedRequests = 64;

function requestKey(type: MessageType, from: NodeId, term: number): string {
  return `${type}/${from}/${term}`;
}

function copyConf(conf: ConfState): ConfState {
  return { voters: [...conf.voters], learners: [...conf.learners] };
}
