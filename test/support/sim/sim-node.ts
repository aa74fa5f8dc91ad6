// One simulated node: the production replica loop (src/server/replica.ts) over simulated adapters — a
// disk whose writes land later (or never, on a crash), the simulated network, a clock driven by the
// simulator's ticks, and a state machine whose state is the list of writes applied. Nothing here
// re-implements the loop: this file holds the adapters, the node's clients, and the facts the checkers
// need. Everything except `store` is volatile: a crash drops it, a restart rebuilds it from the store.
import {
  ConfChange,
  ConfState,
  Entry,
  EntryType,
  Message,
  MessageType,
  NodeId,
  NONE,
  ProposeResult,
  RaftConfig,
  RaftState,
  Random,
  Ready,
  Role,
  SnapshotMeta,
} from "../../../src/raft";
import { campaignTransferContext } from "../../../src/raft/messages";
import { Replica } from "../../../src/server/replica";
import { ReplicaError } from "../../../src/server/replica-errors";
import type { LoopClock, PeerLinks, RaftPersistence, ReplicatedMachine, SnapshotSource } from "../../../src/server/replica-ports";
import { AppState, decodeWrite, encodeWrite } from "./app-state";
import { NodeView } from "./checkers";
import { entryKey } from "./entry-key";
import { PersistedEntryFact } from "./history";
import type { History } from "./history";
import { CoreObserver, ObservedRawNode } from "./observed-core";
import { AppliedEntry, asSimBatch, chunksOf, collect, SimBatch } from "./sim-disk";
import { SimStore } from "./store";

export type ProposalToken = { kind: "write"; writeId: number } | { kind: "conf"; change: ConfChange };

export type ProposalFate = "committed" | "lost" | "unknown";

/** Whether the node took a proposal; its fate comes later, through proposalResolved. */
export type Submitted = { ok: true } | { ok: false; code: string; message: string };

/** What a node needs from the world around it. */
export interface NodeEnvironment {
  readonly history: History;
  readonly random: Random;
  nowMs(): number;
  /** How long a disk write takes at most; 0 means writes land within the step that starts them. */
  readonly maxDiskWriteMs: number;
  /** Calls node.writeDone() once the disk finished the oldest write under way. */
  writeLater(node: SimNode): void;
  /** When set, nodes describe what each step did to them (TRACE=1 replays). */
  readonly describe: ((note: string) => void) | undefined;
  /** Hands a message to the network. A Snap carries the sender's app snapshot bytes beside the meta. */
  send(msg: Message, snapshotData: Uint8Array | undefined): void;
  confChangeApplied(node: SimNode, cc: ConfChange): void;
  proposalResolved(node: SimNode, token: ProposalToken, fate: ProposalFate): void;
  /** The loop stopped on an error (production exits the process): the run fails with it. */
  fail(err: unknown): void;
}

export interface DriverLimits {
  /** Snapshot and compact once this many applied entries sit in the log. */
  compactEveryEntries: number;
  /** A client gives up on a read after this long. */
  readTimeoutMs: number;
  /** Bound on reads waiting on one node. */
  maxPendingReads: number;
  /** Bound on Ready rounds in one step; more means the core does not settle. */
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

interface QueuedWrite {
  batch: SimBatch;
  landed: () => void;
}

/** Proposals are answered once decided, however long that takes: the recovery phase bounds it. */
const noDeadlineMs = Number.POSITIVE_INFINITY;
const settledPromise = Promise.resolve();
const quietLog = { info: () => undefined, error: () => undefined };

export class SimNode implements NodeView, CoreObserver {
  protected replica: Replica<number> | undefined;
  protected raw: ObservedRawNode | undefined;
  role: Role = Role.Follower;
  leader: NodeId = 0;
  term: number;
  incarnation = 0;
  /** The state machine in memory: ahead of store.app until the write carrying its entries lands. */
  protected app: AppState;
  protected readonly openProposals = new Set<ProposalToken>();
  private openReads = 0;
  /** Disk writes started and not landed, oldest first. */
  private writes: QueuedWrite[] = [];
  private tickLoop: (() => void) | undefined;
  private staged: { index: number; term: number; data: Uint8Array } | undefined;
  private captured: { meta: SnapshotMeta; data: Uint8Array } | undefined;
  private readonly snapshotSends = new Map<NodeId, (ok: boolean) => void>();
  /** Committed entries of the Ready being worked on, and those applied since the last batch took them. */
  private toApply: readonly Entry[] = [];
  private unbatched: AppliedEntry[] = [];
  private readyRounds = { step: -1, count: 0 };
  /** The core's Ready behind each one a planted bug changed, until the loop advances with it. */
  private readonly shaped = new Map<Ready, Ready>();
  /** Ticks of this incarnation. */
  private ticks = 0;
  private lease: Lease | undefined;
  /** Pre-vote grants delivered to this node, by the term they grant. */
  private readonly preVoteGrants = new Map<number, Set<NodeId>>();
  /** (Pre-)vote requests for a higher term that reached this node within a lease: the lease's leader, by request. */
  private readonly leasedRequests = new Map<string, { leader: NodeId; claimsTransfer: boolean }>();
  /**
   * Copies of a (pre-)vote request stepped outside any lease whose answer has not gone out yet, by request.
   * An answer goes out only once the write it waits for lands, by which time a duplicate copy may have
   * arrived within a lease (the node heard from a leader meanwhile): the answer belongs to the earlier copy.
   */
  private readonly unleasedCopies = new Map<string, number>();
  private transfer: TransferUnderWay | undefined;

  constructor(
    readonly id: NodeId,
    readonly store: SimStore,
    protected readonly config: RaftConfig,
    protected readonly limits: DriverLimits,
    protected readonly env: NodeEnvironment,
  ) {
    this.term = store.hardState.term;
    this.app = copyApp(store.app);
  }

  get up(): boolean {
    return this.replica !== undefined;
  }

  get log(): SimStore {
    return this.store;
  }

  /** A disk write is under way: a crash now loses it. */
  get writeUnderWay(): boolean {
    return this.writes.length > 0;
  }

  get pendingProposals(): number {
    return this.openProposals.size;
  }

  /** Boots from whatever the store holds. */
  start(): void {
    const state = this.store.restore();
    const incarnation = ++this.incarnation;
    this.role = Role.Follower;
    this.leader = 0;
    this.term = state.hardState.term;
    this.app = copyApp(this.store.app);
    this.forgetVolatileState();
    const raw = this.createRawNode({ ...this.config, id: this.id }, state, this.env.random);
    this.raw = raw;
    this.replica = new Replica<number>(
      {
        id: this.id,
        // The simulator's tick events set each node's period; the loop only passes this to the clock.
        tickMs: 1,
        electionTicks: this.config.electionTicks,
        snapshotEntries: this.limits.compactEveryEntries,
        snapshotBytes: Number.MAX_SAFE_INTEGER,
        maxPendingProposals: Number.MAX_SAFE_INTEGER,
        maxProposalBatch: 4096,
        // The simulated network hands each message over on its own turn: no inbox to bound here.
        maxInboxMessages: Number.MAX_SAFE_INTEGER,
        maxPendingReads: this.limits.maxPendingReads,
        maxUnwrittenBytes: Number.MAX_SAFE_INTEGER,
        applied: state.applied,
        appliedTerm: this.store.termAt(state.applied) ?? 0,
        conf: state.conf,
        firstIndex: state.snapshot.index + 1,
      },
      {
        raft: raw,
        persistence: this.persistence(incarnation),
        machine: this.machine(),
        links: this.links(incarnation),
        snapshots: this.snapshots(incarnation),
        logger: quietLog,
        clock: this.createClock(incarnation),
        fatal: (err) => this.env.fail(err),
      },
    );
    this.replica.start();
  }

  /** Loses all volatile state; open proposals end with an unknown outcome for their clients. */
  crash(): void {
    if (this.replica === undefined) return;
    this.replica = undefined;
    this.raw = undefined;
    const open = [...this.openProposals];
    this.forgetVolatileState();
    for (const token of open) this.env.proposalResolved(this, token, "unknown");
    this.role = Role.Follower;
    this.leader = 0;
    this.store.crash();
  }

  tick(): void {
    this.ticks++;
    if (this.lease !== undefined) this.lease.ticks++;
    this.tickLoop?.();
  }

  receive(msg: Message, snapshotData: Uint8Array | undefined): void {
    const replica = this.running();
    if (msg.type === MessageType.Snap && snapshotData !== undefined) {
      // Refused while another is installed: the sender hears of the failure and tries again.
      replica.receiveSnapshot(msg, chunksOf(snapshotData)).catch(() => undefined);
    } else {
      replica.receive([msg]);
    }
  }

  /** Proposes each write as a client of this node would; refused at once unless it leads. */
  proposeWrites(writeIds: readonly number[]): Submitted {
    const replica = this.running();
    if (!replica.isLeader) return notLeader(replica);
    for (const writeId of writeIds) {
      const token: ProposalToken = { kind: "write", writeId };
      this.openProposals.add(token);
      replica.propose(encodeWrite(writeId), "quorum", noDeadlineMs).then(
        (outcome) => this.guard(() => this.writeCommitted(token, outcome.index, outcome.result)),
        (err: unknown) => this.guard(() => this.proposalFailed(token, err)),
      );
    }
    return { ok: true };
  }

  proposeConfChange(change: ConfChange): Submitted {
    const replica = this.running();
    if (!replica.isLeader) return notLeader(replica);
    const token: ProposalToken = { kind: "conf", change };
    this.openProposals.add(token);
    replica.changeMembership(change, noDeadlineMs).then(
      () => this.guard(() => this.settle(token, "committed")),
      (err: unknown) => this.guard(() => this.proposalFailed(token, err)),
    );
    return { ok: true };
  }

  /** Starts a linearizable read; false when too many are waiting. */
  read(readId: number): boolean {
    const replica = this.running();
    if (this.openReads >= this.limits.maxPendingReads) return false;
    this.env.history.recordReadStart(readId, this.id);
    this.openReads++;
    const incarnation = this.incarnation;
    const served = replica.readBarrier(this.env.nowMs() + this.limits.readTimeoutMs).then(() => replica.readLanded(() => this.app.appliedIndex));
    served.then(
      (appliedIndex) => {
        if (incarnation !== this.incarnation) return;
        this.openReads--;
        this.env.history.recordReadDone(readId, this.id, appliedIndex);
      },
      () => {
        if (incarnation === this.incarnation) this.openReads--;
      },
    );
    return true;
  }

  transferLeadership(to: NodeId): void {
    this.running()
      .transferLeadership(to)
      .catch((err: unknown) => this.guard(() => {
        if (!(err instanceof ReplicaError)) throw err;
      }));
  }

  campaign(): void {
    this.running().campaign();
  }

  /** The transport's verdict on the snapshot this node sent to `to`. */
  snapshotStatus(to: NodeId, ok: boolean): void {
    const done = this.snapshotSends.get(to);
    this.snapshotSends.delete(to);
    done?.(ok);
  }

  reportUnreachable(to: NodeId): void {
    this.running().reportUnreachable(to);
  }

  /** The transport saw its connection to `from` reset (the peer's process died). */
  connectionLost(from: NodeId): void {
    this.running().reportConnectionLost(from);
  }

  /** The disk finished its oldest write under way. */
  writeDone(): void {
    const write = this.writes.shift();
    if (write === undefined) return;
    this.land(write.batch);
    write.landed();
  }

  // ---- hooks that planted bugs override -------------------------------------------------------------

  protected createRawNode(config: RaftConfig, state: RaftState, random: Random): ObservedRawNode {
    return new ObservedRawNode(config, state, random, this);
  }

  protected createClock(incarnation: number): LoopClock {
    return {
      now: () => this.env.nowMs(),
      // The simulator's tick events are the timer: each node's period is set by the cluster.
      every: (_periodMs, fn) => {
        this.tickLoop = fn;
        return () => {
          if (this.tickLoop === fn) this.tickLoop = undefined;
        };
      },
      // A resolved promise's callback is a microtask without queueMicrotask's async-hook scope (cheaper).
      soon: (fn) => {
        void settledPromise.then(() => this.live(incarnation) && fn());
      },
    };
  }

  /** Starts a disk write; it lands at a write-done step, or within this step on an instant disk. */
  protected submitWrite(incarnation: number, batch: SimBatch): Promise<void> {
    if (!this.live(incarnation)) return new Promise<void>(() => undefined);
    return new Promise<void>((landed) => {
      this.writes.push({ batch, landed });
      if (this.env.maxDiskWriteMs === 0) this.writeDone();
      else this.env.writeLater(this);
    });
  }

  /** What leaves for the network; a planted bug may change it. */
  protected outgoing(msg: Message): Message {
    return msg;
  }

  /** The Ready the loop works on; a planted bug may hand it other committed entries than the core did. */
  protected shapeReady(rd: Ready): Ready {
    return rd;
  }

  /** This node stopped leading; its clients learn the fate of their writes from the loop. */
  protected leadershipEnded(): void {}

  protected running(): Replica<number> {
    if (this.replica === undefined) throw new Error(`node ${this.id} is down`);
    return this.replica;
  }

  protected settle(token: ProposalToken, fate: ProposalFate): void {
    if (!this.openProposals.delete(token)) return;
    if (token.kind === "write" && fate === "lost") this.env.history.recordLost(token.writeId);
    this.env.proposalResolved(this, token, fate);
  }

  // ---- the ports -----------------------------------------------------------------------------------

  private persistence(incarnation: number): RaftPersistence {
    return {
      newBatch: () => new SimBatch((batch) => this.submitWrite(incarnation, batch)),
      addReady: (batch, rd) => {
        asSimBatch(batch).readies.push(rd);
      },
      addApplied: (batch, index) => {
        this.applyThrough(index, undefined);
        asSimBatch(batch).applied.push(...this.unbatched);
        this.unbatched = [];
      },
      addCompaction: (batch, point) => {
        asSimBatch(batch).compactTo = point;
      },
    };
  }

  private machine(): ReplicatedMachine<number> {
    return {
      apply: (index) => {
        this.applyThrough(index, undefined);
        const entry = this.toApply.find((e) => e.index === index);
        if (entry === undefined) throw new Error(`node ${this.id} applied index ${index}, which its Ready does not commit`);
        return decodeWrite(entry.data);
      },
      reload: async (appliedIndex) => {
        this.app = copyApp(this.store.app);
        if (this.app.appliedIndex !== appliedIndex) throw new Error(`node ${this.id} reloaded state at ${this.app.appliedIndex}, not ${appliedIndex}`);
      },
    };
  }

  private links(incarnation: number): PeerLinks {
    return {
      send: (messages) => {
        if (!this.live(incarnation)) return;
        for (const msg of messages) this.transmit(this.outgoing(msg), undefined);
      },
      sendSnapshot: async (message, chunks) => {
        const data = await collect(chunks);
        if (!this.live(incarnation)) return false;
        return new Promise<boolean>((done) => {
          this.snapshotSends.get(message.to)?.(false);
          this.snapshotSends.set(message.to, done);
          this.transmit(this.outgoing(message), data);
        });
      },
    };
  }

  private snapshots(incarnation: number): SnapshotSource {
    return {
      capture: (meta) => {
        // Like a LevelDB snapshot: the stored state, which must be exactly the one at the captured index.
        const stored = this.store.app;
        if (stored.appliedIndex !== meta.index) throw new Error(`node ${this.id} captures a snapshot at ${meta.index} with the stored state at ${stored.appliedIndex}`);
        this.captured = { meta, data: stored.encode() };
      },
      open: () => {
        const captured = this.captured;
        return captured === undefined ? undefined : { meta: captured.meta, chunks: chunksOf(captured.data) };
      },
      stage: async (meta, chunks) => {
        const data = await collect(chunks);
        if (this.live(incarnation)) this.staged = { index: meta.index, term: meta.term, data };
      },
      install: async (meta) => {
        const staged = this.staged;
        if (staged === undefined || staged.index !== meta.index || staged.term !== meta.term) {
          throw new Error(`node ${this.id} installs snapshot ${meta.index}/${meta.term} but staged ${staged?.index}/${staged?.term}`);
        }
        this.staged = undefined;
        // In order with the writes before it, as one more write to the same disk.
        const batch = new SimBatch((b) => this.submitWrite(incarnation, b));
        batch.install = { meta, data: staged.data };
        await batch.write({ sync: true });
      },
      discard: async () => {
        this.staged = undefined;
      },
    };
  }

  // ---- the disk and the state machine --------------------------------------------------------------

  /** A write lands: its Readys, the entries applied into it and its compaction reach the store at once. */
  private land(batch: SimBatch): void {
    const store = this.store;
    if (batch.install !== undefined) {
      const { meta, data } = batch.install;
      store.installSnapshot(meta, data);
      this.env.history.recordSnapshotInstalled({ node: this.id, index: meta.index, term: meta.term, digest: store.app.digest });
    }
    for (const rd of batch.readies) {
      store.write(rd, undefined);
      if (rd.entries.length > 0) this.env.history.recordPersisted(this.id, this.durableFactsFrom(rd.entries[0].index));
    }
    for (const { entry, conf } of batch.applied) {
      if (entry.index !== store.app.appliedIndex + 1) throw new Error(`node ${this.id} stores applied entry ${entry.index} after ${store.app.appliedIndex}`);
      store.app.apply(entry, conf);
    }
    if (batch.compactTo !== undefined) store.compactTo(batch.compactTo);
  }

  /**
   * Applies, in memory, the committed entries of the current Ready up to `index`: the loop hands the
   * machine only entries with data, so empty entries and conf changes are applied here on the way.
   */
  private applyThrough(index: number, confAt: { index: number; conf: ConfState } | undefined): void {
    for (const entry of this.toApply) {
      if (entry.index <= this.app.appliedIndex) continue;
      if (entry.index > index) break;
      const conf = entry.index === confAt?.index ? confAt.conf : undefined;
      if (entry.type === EntryType.ConfChange && conf === undefined) throw new Error(`node ${this.id} passed conf change ${entry.index} without applying it`);
      const prevApplied = this.app.appliedIndex;
      this.app.apply(entry, conf);
      if (conf !== undefined) this.env.history.recordConf(entry.index, conf);
      const writeId = entry.type === EntryType.Normal && entry.data.length > 0 ? decodeWrite(entry.data) : undefined;
      this.env.history.recordApplied({ node: this.id, index: entry.index, key: entryKey(entry), digest: this.app.digest, prevApplied, writeId });
      this.unbatched.push({ entry, conf });
    }
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

  // ---- the node's clients --------------------------------------------------------------------------

  /** A committed write is acknowledged after checking that the entry applied at its index is that write. */
  private writeCommitted(token: ProposalToken & { kind: "write" }, index: number, appliedWrite: number | undefined): void {
    if (!this.openProposals.has(token)) return;
    if (appliedWrite !== token.writeId) {
      throw new Error(`node ${this.id}: write ${token.writeId} resolved as committed at index ${index}, which holds ${appliedWrite}`);
    }
    this.env.history.recordAck(token.writeId, this.id, index);
    this.settle(token, "committed");
  }

  private proposalFailed(token: ProposalToken, err: unknown): void {
    if (!(err instanceof ReplicaError)) throw err;
    this.settle(token, err.certain ? "lost" : "unknown");
  }

  /** Runs a client's callback; what it throws fails the run, as the loop's own errors do. */
  private guard(run: () => void): void {
    try {
      run();
    } catch (err) {
      this.env.fail(err);
    }
  }

  private live(incarnation: number): boolean {
    return this.replica !== undefined && this.incarnation === incarnation;
  }

  private forgetVolatileState(): void {
    this.openProposals.clear();
    this.openReads = 0;
    this.writes = [];
    this.tickLoop = undefined;
    this.staged = undefined;
    this.captured = undefined;
    this.snapshotSends.clear();
    this.toApply = [];
    this.unbatched = [];
    this.ticks = 0;
    this.lease = undefined;
    this.preVoteGrants.clear();
    this.leasedRequests.clear();
    this.unleasedCopies.clear();
    this.transfer = undefined;
  }

  private transmit(msg: Message, snapshotData: Uint8Array | undefined): void {
    if (msg.type === MessageType.VoteResp || msg.type === MessageType.PreVoteResp) this.noteAnswer(msg);
    this.env.send(msg, snapshotData);
  }

  // ---- CoreObserver: what the loop asks of the core ------------------------------------------------

  readyOut(coreReady: Ready): Ready {
    const step = this.env.history.step;
    if (this.readyRounds.step !== step) this.readyRounds = { step, count: 0 };
    if (++this.readyRounds.count > this.limits.maxReadyRoundsPerInput) {
      throw new Error(`node ${this.id} still has a Ready after ${this.limits.maxReadyRoundsPerInput} rounds in one step: the core does not settle`);
    }
    this.observeState(coreReady);
    if (coreReady.committedEntries.length > 0) this.recordCommitted(coreReady.committedEntries);
    const rd = this.shapeReady(coreReady);
    if (rd !== coreReady) this.shaped.set(rd, coreReady);
    this.toApply = rd.committedEntries;
    return rd;
  }

  /** What the core (or a driver that decides commits itself) says is committed. */
  protected recordCommitted(entries: readonly Entry[]): void {
    const facts = entries.map((e) => ({ index: e.index, term: e.term, key: entryKey(e) }));
    this.env.history.recordCommitted(this.id, this.term, facts);
  }

  readyBack(rd: Ready): Ready {
    const core = this.shaped.get(rd);
    this.shaped.delete(rd);
    return core ?? rd;
  }

  confApplied(cc: ConfChange, conf: ConfState): void {
    const entry = this.toApply.find((e) => e.index > this.app.appliedIndex && e.type === EntryType.ConfChange);
    if (entry === undefined) throw new Error(`node ${this.id} applied a conf change its Ready does not commit`);
    this.applyThrough(entry.index, { index: entry.index, conf: copyConf(conf) });
    this.env.confChangeApplied(this, cc);
  }

  proposed(result: ProposeResult): void {
    if (result.ok) this.noteProposalAccepted(result.index, result.term);
  }

  transferAccepted(to: NodeId, result: ProposeResult): void {
    if (result.ok) this.noteTransferAccepted(to, result.term);
  }

  /** Runs one input of the core and records it when the node started a new term by campaigning. */
  watchTerm(cause: "election" | "transfer", input: () => void): void {
    const raw = this.core();
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
  beforeStep(msg: Message): void {
    if (msg.type === MessageType.PreVoteResp && !msg.reject) {
      const grants = this.preVoteGrants.get(msg.term) ?? new Set<NodeId>();
      grants.add(msg.from);
      this.preVoteGrants.set(msg.term, grants);
      return;
    }
    if (msg.type !== MessageType.Vote && msg.type !== MessageType.PreVote) return;
    const status = this.core().basicStatus();
    const key = requestKey(msg.type, msg.from, msg.term);
    const leader = msg.term > status.term ? this.leaseHolder(status.term, status.leader, status.role) : undefined;
    // A copy that arrives outside the lease may be granted; a grant is charged to such a copy first.
    if (leader === undefined) {
      if (this.unleasedCopies.size >= maxLeasedRequests) this.unleasedCopies.clear();
      this.unleasedCopies.set(key, (this.unleasedCopies.get(key) ?? 0) + 1);
      return;
    }
    if (this.leasedRequests.size >= maxLeasedRequests) this.leasedRequests.clear();
    this.leasedRequests.set(key, { leader, claimsTransfer: msg.context === campaignTransferContext });
  }

  /** After the core took a leader's message: a follower of that leader in its term starts a new lease. */
  afterStep(msg: Message): void {
    if (msg.type !== MessageType.App && msg.type !== MessageType.Heartbeat && msg.type !== MessageType.Snap) return;
    const status = this.core().basicStatus();
    if (status.term !== msg.term || status.leader !== msg.from || status.role !== Role.Follower) return;
    this.lease = { leader: msg.from, term: msg.term, ticks: 0 };
    this.leasedRequests.clear();
  }

  // ---- facts for the checkers ----------------------------------------------------------------------

  protected core(): ObservedRawNode {
    if (this.raw === undefined) throw new Error(`node ${this.id} is down`);
    return this.raw;
  }

  protected observeState(rd: Ready): void {
    if (rd.hardState !== undefined) this.term = rd.hardState.term;
    if (rd.softState !== undefined) {
      const wasLeader = this.role === Role.Leader;
      const becameLeader = rd.softState.role === Role.Leader && !wasLeader;
      this.role = rd.softState.role;
      this.leader = rd.softState.leader;
      if (becameLeader) this.env.history.recordLeader(this.id, this.term);
      if (wasLeader && this.role !== Role.Leader) this.leadershipEnded();
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

  /** The leader whose lease this node is in: itself while it leads, else the leader it heard from lately. */
  private leaseHolder(term: number, leader: NodeId, role: Role): NodeId | undefined {
    if (role === Role.Leader) return this.id;
    const lease = this.lease;
    if (lease === undefined || leader === NONE || lease.leader !== leader || lease.term !== term) return undefined;
    return lease.ticks < this.config.electionTicks ? leader : undefined;
  }

  /** An answer to a (pre-)vote request: a grant that answers no copy stepped outside a lease is a leased grant. */
  private noteAnswer(resp: Message): void {
    const requestType = resp.type === MessageType.VoteResp ? MessageType.Vote : MessageType.PreVote;
    const key = requestKey(requestType, resp.to, resp.term);
    const unleased = this.unleasedCopies.get(key) ?? 0;
    if (unleased > 0) {
      if (unleased === 1) this.unleasedCopies.delete(key);
      else this.unleasedCopies.set(key, unleased - 1);
      return;
    }
    if (resp.reject) return;
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
      transfereeIsVoter: this.core().status().conf.voters.includes(transfer.to),
    });
  }
}

/** Bound on remembered leased requests; they are forgotten whenever the lease is renewed. */
const maxLeasedRequests = 64;

function requestKey(type: MessageType, from: NodeId, term: number): string {
  return `${type}/${from}/${term}`;
}

function notLeader(replica: Replica<number>): Submitted {
  const leader = replica.leaderId;
  return { ok: false, code: "NOT_LEADER", message: leader === 0 ? "no leader is known" : `node ${leader} leads` };
}

function copyConf(conf: ConfState): ConfState {
  return { voters: [...conf.voters], learners: [...conf.learners] };
}

function copyApp(app: AppState): AppState {
  return new AppState(app.appliedIndex, app.digest, copyConf(app.conf), app.writes.slice());
}
