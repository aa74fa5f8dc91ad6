// The replica loop: tick → step → ready → apply → accept, handing each Ready's write to the write
// pipeline, which lands writes one at a time in order while the loop goes on stepping, sending and
// applying (a write under way is joined by the Readys that come meanwhile: group commit). A Ready's
// messages leave once its write has landed — a leader's replication messages at once — and raft hears
// of each landed write (persisted). Proposals are answered once applied, before the apply write lands;
// readers see the applied state only once it has landed (readLanded), so what they locate in memory is
// in storage.
import { EventEmitter } from "node:events";
import {
  ConfChange,
  ConfState,
  Entry,
  EntryType,
  Message,
  MessageType,
  ProposalErrorCode,
  RawNode,
  Ready,
  Role,
  SnapshotMeta,
  decodeConfChange,
} from "../raft";
import { Acks, Pending, PendingProposals, ProposalOutcome } from "./pending-proposals";
import { ReplicaError } from "./replica-errors";
import { FatalStop, LoopClock, LoopLog, PeerLinks, RaftPersistence, ReplicatedMachine, SnapshotSource } from "./replica-ports";
import { ReadWaiters } from "./read-waiters";
import { WritePipeline } from "./write-pipeline";

function isLeaderReplication(m: Message): boolean {
  return m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.TimeoutNow;
}

export interface ReplicaOptions {
  id: number;
  tickMs: number;
  electionTicks: number;
  snapshotEntries: number;
  /** ... or once the applied entries since the last compaction hold this many bytes. */
  snapshotBytes: number;
  maxPendingProposals: number;
  /** Upper bound on entries handed to one raft.propose call. */
  maxProposalBatch: number;
  /** Peer messages waiting for the loop before `receive` asks the sender to hold back. */
  maxInboxMessages: number;
  /** Read barriers waiting at once; beyond it readBarrier refuses (BUSY). */
  maxPendingReads: number;
  /** Entry bytes handed to storage and not yet written, beyond which client writes wait to be proposed. */
  maxUnwrittenBytes: number;
  applied: number;
  /** Term of the entry at `applied` (the stored snapshot's term when that is where applied stands). */
  appliedTerm: number;
  conf: ConfState;
  firstIndex: number;
}

export interface ReplicaDeps<R> {
  raft: RawNode;
  persistence: RaftPersistence;
  machine: ReplicatedMachine<R>;
  links: PeerLinks;
  snapshots: SnapshotSource;
  logger: LoopLog;
  clock: LoopClock;
  fatal: FatalStop;
}

/** A membership change waiting to be proposed, then applied. */
interface ConfWaiter {
  cc: ConfChange;
  deadlineMs: number;
  /** Where raft put it; 0 until proposed. */
  index: number;
  term: number;
  resolve: (conf: ConfState) => void;
  reject: (err: ReplicaError) => void;
}

interface StagedSnapshot {
  meta: SnapshotMeta;
  /** Set once its Snap message went into raft. */
  stepped: boolean;
  done: () => void;
}

/** Counts kept for metrics; they only ever grow. */
export interface ReplicaStats {
  snapshotsSent: number;
  snapshotsSendFailed: number;
  snapshotsInstalled: number;
}

export class Replica<R> extends EventEmitter {
  readonly stats: ReplicaStats = { snapshotsSent: 0, snapshotsSendFailed: 0, snapshotsInstalled: 0 };
  private readonly raft: RawNode;
  private readonly pending: PendingProposals<R>;
  private readonly reads: ReadWaiters;
  private readonly writes: WritePipeline;
  /** Landed writes not yet reported to raft: the last entry (index, term) each carried. */
  private persistedQueue: { index: number; term: number }[] = [];
  private inbox: Message[] = [];
  private unreachable: number[] = [];
  private connectionsLost: number[] = [];
  private staged: StagedSnapshot | undefined;
  private ticks = 0;
  private campaignAsked = false;
  private running = false;
  private again = false;
  private stopped = false;
  private stopTicking: (() => void) | undefined;
  private applied: number;
  private conf: ConfState;
  private lastCompacted: number;
  /** Data bytes of the entries applied since lastCompacted: what compaction would free. */
  private appliedBytes = 0;
  private leader = 0;
  private role = Role.Follower;
  private term = 0;
  private appliedTerm = 0;
  /** The applied point (index, term, membership) of the last write that landed: below `applied`, memory is ahead of storage. */
  private landed: SnapshotMeta;
  /** Compaction is due: capture the state the next write lands, as it lands. */
  private captureWanted = false;
  /** Captured as it landed; the log is compacted to it on the loop's next turn. */
  private captured: SnapshotMeta | undefined;
  /** A snapshot is being installed under the machine's memory. */
  private installing = false;
  /** Readers waiting for the moment memory and storage agree again. */
  private landedReaders: (() => void)[] = [];
  private forceCompaction = false;
  private readonly sendingSnapshotTo = new Set<number>();
  private reportQueue: { to: number; ok: boolean }[] = [];
  private confWaiters: ConfWaiter[] = [];
  private transfers: { to: number; resolve: () => void; reject: (err: ReplicaError) => void }[] = [];

  constructor(
    private readonly opts: ReplicaOptions,
    private readonly deps: ReplicaDeps<R>,
  ) {
    super();
    // Every call waiting for a leader listens for "role" until it is answered: bounded by calls in flight.
    this.setMaxListeners(0);
    this.raft = deps.raft;
    this.pending = new PendingProposals<R>(opts.maxPendingProposals);
    // Read contexts travel to the leader, which drops one already pending: unique across nodes and restarts.
    this.reads = new ReadWaiters(`${opts.id}.${deps.clock.now().toString(36)}`);
    this.applied = opts.applied;
    this.landed = { index: opts.applied, term: opts.appliedTerm, conf: opts.conf };
    this.writes = new WritePipeline(() => deps.persistence.newBatch(), deps.fatal, () => this.captureLanded());
    // A snapshot captured before anything new is applied carries this term: it must be the real one.
    this.appliedTerm = opts.appliedTerm;
    this.conf = opts.conf;
    this.lastCompacted = Math.max(0, opts.firstIndex - 1);
  }

  start(): void {
    this.stopTicking = this.deps.clock.every(this.opts.tickMs, () => {
      // Ticks missed while the loop was blocked are capped: a long stall should cost one election
      // timeout, not a burst of elections.
      this.ticks = Math.min(this.ticks + 1, this.opts.electionTicks);
      this.schedule();
    });
    this.schedule();
  }

  get appliedIndex(): number {
    return this.applied;
  }

  /**
   * Runs `read` at a moment when everything applied is also in storage: at once if no apply write is in
   * flight, else right after it lands and before anything more is applied. What `read` sees in the state
   * machine is then on disk, and a LevelDB iterator it opens sees the same state.
   */
  readLanded<T>(read: () => T): Promise<T> {
    if (!this.unlanded) return new Promise((resolve) => resolve(read()));
    return new Promise((resolve, reject) => {
      this.landedReaders.push(() => {
        try {
          resolve(read());
        } catch (err) {
          reject(err);
        }
      });
    });
  }

  get leaderId(): number {
    return this.leader;
  }

  get isLeader(): boolean {
    return this.role === Role.Leader;
  }

  get currentTerm(): number {
    return this.term;
  }

  /** A leader that applied an entry of its own term: its state holds everything committed before that term. */
  get appliedOwnTerm(): boolean {
    return this.role === Role.Leader && this.appliedTerm === this.term;
  }

  /** Proposals waiting for commit (or, with acks "quorum", for apply). */
  get pendingProposals(): number {
    return this.pending.size;
  }

  get raftNode(): RawNode {
    return this.raft;
  }

  /**
   * Peer messages from the transport. Returns false once the inbox is at its bound: the caller stops
   * reading until "inboxDrained" (what is passed is still taken, so nothing is lost).
   */
  receive(messages: Message[]): boolean {
    if (this.stopped) return true;
    for (const m of messages) this.inbox.push(m);
    this.schedule();
    return this.inbox.length < this.opts.maxInboxMessages;
  }

  /**
   * A snapshot streamed from the leader. It is staged beside the live state first; raft then decides,
   * and only a Ready carrying it installs it. Resolves once installed or found unneeded.
   */
  async receiveSnapshot(msg: Message, chunks: AsyncIterable<Buffer>): Promise<void> {
    const meta = msg.snapshot;
    if (this.stopped || !meta) throw new Error("not accepting snapshots");
    if (meta.index <= this.applied) {
      // We already hold this state: skip the data and let raft answer from its own log.
      for await (const chunk of chunks) void chunk;
      this.receive([msg]);
      return;
    }
    if (this.staged) throw new Error("another snapshot is being installed");
    const staged: StagedSnapshot = { meta, stepped: false, done: () => undefined };
    this.staged = staged;
    try {
      await this.deps.snapshots.stage(meta, chunks);
    } catch (err) {
      this.staged = undefined;
      throw err;
    }
    await new Promise<void>((resolve) => {
      staged.done = resolve;
      this.inbox.push(msg);
      this.schedule();
    });
  }

  /** The transport lost messages to `id`: raft slows down replication to it (probe state). */
  reportUnreachable(id: number): void {
    this.unreachable.push(id);
    this.schedule();
  }

  /** The connection to `id` reset: if it was the leader, raft campaigns at once instead of after the timeout. */
  reportConnectionLost(id: number): void {
    this.connectionsLost.push(id);
    this.schedule();
  }

  propose(data: Uint8Array, acks: Acks, deadlineMs: number): Promise<ProposalOutcome<R>> {
    if (this.stopped) return Promise.reject(new ReplicaError("STOPPED", "this node is shutting down", this.leader, true));
    if (this.role !== Role.Leader) return Promise.reject(this.notLeader());
    return new Promise((resolve, reject) => {
      const p: Pending<R> = { data, acks, deadlineMs, index: 0, resolve, reject, settled: false };
      if (!this.pending.add(p)) {
        reject(new ReplicaError("BUSY", "too many writes in flight on the leader; retry with backoff", this.leader, true));
        return;
      }
      this.schedule();
    });
  }

  /**
   * Proposes one membership change (leader only); resolves with the membership once it is applied here.
   * Raft refuses a second change while one is in flight, and a promotion of a learner still catching up.
   */
  changeMembership(cc: ConfChange, deadlineMs: number): Promise<ConfState> {
    if (this.stopped) return Promise.reject(new ReplicaError("STOPPED", "this node is shutting down", this.leader, true));
    if (this.role !== Role.Leader) return Promise.reject(this.notLeader());
    return new Promise((resolve, reject) => {
      this.confWaiters.push({ cc, deadlineMs, index: 0, term: 0, resolve, reject });
      this.schedule();
    });
  }

  get membership(): ConfState {
    return { voters: [...this.conf.voters], learners: [...this.conf.learners] };
  }

  /** Resolves once this node has applied everything committed when the call began (linearizable read). */
  readBarrier(deadlineMs: number): Promise<void> {
    if (this.stopped) return Promise.reject(new ReplicaError("STOPPED", "this node is shutting down", this.leader, true));
    if (this.reads.size >= this.opts.maxPendingReads) {
      return Promise.reject(new ReplicaError("BUSY", `${this.reads.size} reads already wait for a ReadIndex round`, this.leader, true));
    }
    const p = this.reads.add(deadlineMs);
    this.schedule();
    return p;
  }

  /**
   * Hands leadership to `to` at the loop's next turn, after the inputs queued before it (ticks included:
   * the transfer's timeout counts from there); rejects when raft refuses.
   */
  transferLeadership(to: number): Promise<void> {
    if (this.stopped) return Promise.reject(new ReplicaError("STOPPED", "this node is shutting down", this.leader, true));
    return new Promise((resolve, reject) => {
      this.transfers.push({ to, resolve, reject });
      this.schedule();
    });
  }

  /** Starts an election at the next turn of the loop (raft ignores it on a learner or a leader). */
  campaign(): void {
    this.campaignAsked = true;
    this.schedule();
  }

  /** Stops ticking and fails everything still waiting; the caller closes storage afterwards. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopTicking?.();
    this.pending.stopped(this.leader);
    const unknown = new ReplicaError("UNKNOWN_OUTCOME", "this node shut down before the membership change was applied; it may or may not be", this.leader, false);
    for (const w of this.confWaiters) w.reject(unknown);
    this.confWaiters = [];
    const stopping = new ReplicaError("STOPPED", "this node is shutting down", this.leader, true);
    this.reads.failAll(stopping);
    for (const t of this.transfers) t.reject(stopping);
    this.transfers = [];
    while (this.running) await new Promise<void>((r) => this.once("idle", r));
    await this.writes.drained();
  }

  /** From apply (or a snapshot install) until its write lands, the machine's memory is ahead of storage. */
  private get unlanded(): boolean {
    return this.installing || this.landed.index < this.applied;
  }

  private notLeader(): ReplicaError {
    return new ReplicaError("NOT_LEADER", this.leader ? `node ${this.leader} is the leader` : "no leader is known yet", this.leader, true);
  }

  private schedule(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.deps.clock.soon(() => {
      this.loop().catch((err: unknown) => this.deps.fatal(err));
    });
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        this.stepInputs();
        while (!this.stopped && this.raft.hasReady()) {
          // Readers of storage wait for memory and storage to agree: stop applying until they do.
          if (this.landedReaders.length > 0 && this.unlanded) await this.writes.drained();
          const rd = this.raft.ready();
          this.takeTermAndRole(rd);
          if (rd.snapshot) await this.installSnapshot(rd.snapshot);
          this.writeReady(rd);
          this.raft.accept(rd);
          // The snapshot must hold exactly an applied state: the one a write lands is captured as it lands
          // (captureLanded), and the log compacted to it on a later turn. The loop never waits for a write
          // here: a write LevelDB holds back for seconds must not stop the heartbeats.
          if (this.compactionDue()) this.captureWanted = true;
          this.compactCaptured();
          this.afterAdvance();
          this.stepInputs();
        }
        await this.discardUnusedSnapshot();
        this.compactCaptured();
      } while (this.again && !this.stopped);
    } finally {
      this.running = false;
      this.emit("idle");
    }
  }

  private stepInputs(): void {
    for (const p of this.persistedQueue) this.raft.persisted(p.index, p.term);
    this.persistedQueue = [];
    const ticked = this.ticks > 0;
    for (; this.ticks > 0; this.ticks--) this.raft.tick();
    if (this.campaignAsked) this.raft.campaign();
    this.campaignAsked = false;
    for (const id of this.unreachable) this.raft.reportUnreachable(id);
    this.unreachable = [];
    for (const id of this.connectionsLost) {
      if (this.raft.leaderConnectionLost(id)) this.deps.logger.info({ leader: id }, "connection to the leader reset: campaigning without waiting for the election timeout");
    }
    this.connectionsLost = [];
    const inbox = this.inbox;
    this.inbox = [];
    if (inbox.length >= this.opts.maxInboxMessages) this.emit("inboxDrained");
    for (const m of inbox) {
      if (m.type === MessageType.Snap && this.staged && m.snapshot?.index === this.staged.meta.index) this.staged.stepped = true;
      this.raft.step(m);
    }
    this.stepTransfers();
    this.proposeQueued();
    this.proposeConfChanges();
    for (const ctx of this.reads.takeQueued()) {
      const r = this.raft.readIndex(ctx);
      // With no leader known (an election under way, e.g. right after the leader's connection reset) the
      // read waits, unsent, until one is known (resendUnanswered) or its deadline passes.
      if (!r.ok && r.code === ProposalErrorCode.NotLeader && r.leader === 0) continue;
      if (!r.ok) this.reads.fail(ctx, new ReplicaError(r.code === ProposalErrorCode.ReadQueueFull ? "BUSY" : "NOT_LEADER", r.message, r.leader, true));
    }
    if (ticked) {
      // Deadlines are checked once per tick, not on every turn: sweeping is O(open proposals).
      const now = this.deps.clock.now();
      this.pending.expire(now, this.leader);
      this.reads.expire(now, this.leader);
      this.expireConfWaiters(now);
    }
  }

  private stepTransfers(): void {
    const transfers = this.transfers;
    this.transfers = [];
    for (const t of transfers) {
      const r = this.raft.transferLeadership(t.to);
      if (r.ok) t.resolve();
      else t.reject(new ReplicaError(r.code === ProposalErrorCode.TransferInProgress ? "TRANSFER_IN_PROGRESS" : "REJECTED", r.message, r.leader, true));
    }
  }

  private proposeConfChanges(): void {
    for (const w of this.confWaiters) {
      if (w.index !== 0) continue;
      const r = this.raft.proposeConfChange(w.cc);
      if (r.ok) {
        w.index = r.index;
        w.term = r.term;
        continue;
      }
      const code = r.code === ProposalErrorCode.NotLeader ? "NOT_LEADER" : r.code === ProposalErrorCode.ConfChangeRejected ? "REJECTED" : "BUSY";
      this.settleConf(w, new ReplicaError(code, r.message, r.leader, true));
    }
  }

  private expireConfWaiters(now: number): void {
    for (const w of [...this.confWaiters]) {
      if (now < w.deadlineMs) continue;
      // Proposed: it may still commit, so the outcome is unknown; not proposed: it certainly did not happen.
      const certain = w.index === 0;
      this.settleConf(w, new ReplicaError("TIMEOUT", "the membership change was not applied in time", this.leader, certain));
    }
  }

  /** The conf change entry at (index, term) was applied: answer whoever proposed it. */
  private confApplied(index: number, term: number): void {
    for (const w of [...this.confWaiters]) {
      if (w.index === index && w.term === term) this.settleConf(w, this.membership);
    }
  }

  /** Everything through `applied` is applied: a change proposed there and not answered was replaced. */
  private confLostThrough(applied: number): void {
    for (const w of [...this.confWaiters]) {
      if (w.index === 0 || w.index > applied) continue;
      this.settleConf(w, new ReplicaError("LOST", "leadership changed before the membership change committed", this.leader, true));
    }
  }

  /**
   * A snapshot at (index, term) replaced the log, and the entries before it were never seen here: a change
   * proposed exactly there is applied; one below it may or may not be (its entry may have been replaced
   * before the snapshot's history committed another). Changes above it wait for their entry as before.
   */
  private confSnapshotInstalled(meta: SnapshotMeta): void {
    for (const w of [...this.confWaiters]) {
      if (w.index === 0 || w.index > meta.index) continue;
      if (w.index === meta.index && w.term === meta.term) this.settleConf(w, this.membership);
      else this.settleConf(w, new ReplicaError("UNKNOWN_OUTCOME", "a snapshot replaced the log; the membership change may or may not be applied", this.leader, false));
    }
  }

  private settleConf(w: ConfWaiter, outcome: ConfState | ReplicaError): void {
    this.confWaiters = this.confWaiters.filter((x) => x !== w);
    if (outcome instanceof ReplicaError) w.reject(outcome);
    else w.resolve(outcome);
  }

  private proposeQueued(): void {
    // Past the bound the loop goes on (ticks, heartbeats, commits) and new writes wait until a write lands
    // and schedules it.
    const queued = this.pending.takeQueued(this.opts.maxUnwrittenBytes - this.writes.unwrittenBytes);
    for (let start = 0; start < queued.length; start += this.opts.maxProposalBatch) {
      const chunk = queued.slice(start, start + this.opts.maxProposalBatch).filter((p) => !p.settled);
      if (chunk.length === 0) continue;
      const r = this.raft.propose(chunk.map((p) => p.data));
      if (!r.ok) {
        const code = r.code === ProposalErrorCode.NotLeader ? "NOT_LEADER" : r.code === ProposalErrorCode.TransferInProgress ? "TRANSFER_IN_PROGRESS" : "BUSY";
        for (const p of chunk) this.pending.fail(p, new ReplicaError(code, r.message, r.leader, true));
        continue;
      }
      chunk.forEach((p, k) => this.pending.track(p, r.index + k, r.term));
    }
  }

  /** Raft took the staged snapshot: install it under the state machine before persisting the Ready. */
  private async installSnapshot(meta: SnapshotMeta): Promise<void> {
    // The install replaces storage underneath: no earlier write may land after it.
    await this.writes.drained();
    // Storage changes under the machine's memory until the Ready's write lands.
    this.installing = true;
    await this.deps.snapshots.install(meta);
    await this.deps.machine.reload(meta.index);
    this.installing = false;
    this.pending.snapshotInstalled(meta.index, meta.term, this.leader);
    this.applied = meta.index;
    this.appliedTerm = meta.term;
    this.conf = meta.conf;
    this.emit("conf", this.membership, undefined);
    this.confSnapshotInstalled(meta);
    this.lastCompacted = meta.index;
    this.landed = { index: meta.index, term: meta.term, conf: meta.conf };
    this.captured = undefined;
    this.appliedBytes = 0;
    // The log now starts here: a snapshot captured before would describe a point raft no longer holds,
    // and a follower sent it would be asked for this one again and again. Storage holds exactly this state.
    this.deps.snapshots.capture({ index: meta.index, term: meta.term, conf: meta.conf });
    this.deps.logger.info({ index: meta.index, term: meta.term }, "installed snapshot");
    this.stats.snapshotsInstalled++;
    const staged = this.staged;
    this.staged = undefined;
    staged?.done();
  }

  /** Raft stepped the snapshot message without taking it (e.g. it was stale by then). */
  private async discardUnusedSnapshot(): Promise<void> {
    const staged = this.staged;
    if (!staged?.stepped) return;
    this.staged = undefined;
    await this.deps.snapshots.discard();
    staged.done();
  }

  /** The Ready's new term and role or leader, announced to listeners before anything of it is applied. */
  private takeTermAndRole(rd: Ready): void {
    if (rd.hardState && rd.hardState.term !== this.term) {
      this.term = rd.hardState.term;
      this.emit("term", this.term);
    }
    if (rd.softState) this.onSoftState(rd.softState.role, rd.softState.leader);
  }

  /** Applies the Ready's committed entries and hands its write to the pipeline; the rest follows when it lands. */
  private writeReady(rd: Ready): void {
    const batch = this.writes.batch();
    this.deps.persistence.addReady(batch, rd);
    const results = this.applyEntries(rd.committedEntries, batch);
    // Committed means on a majority's disk, and apply has fixed the results (offsets): answer now,
    // without waiting for this write (it only saves the applied state; a restart would redo it).
    this.pending.committed(rd.committedEntries, results, this.leader);
    // Persist before send (Raft Figure 2): votes and append acknowledgements leave only after the write.
    // A leader's replication messages acknowledge nothing, so they go out while it writes (§10.2.1).
    const early = this.role === Role.Leader ? rd.messages.filter(isLeaderReplication) : [];
    const late = early.length > 0 ? rd.messages.filter((m) => !isLeaderReplication(m)) : rd.messages;
    this.sendMessages(early);
    const applied = this.applied;
    const point: SnapshotMeta = { index: applied, term: this.appliedTerm, conf: this.conf };
    const last = rd.entries.length > 0 ? rd.entries[rd.entries.length - 1] : undefined;
    const appliedSome = rd.committedEntries.length > 0;
    let entryBytes = 0;
    for (const e of rd.entries) entryBytes += e.data.length;
    this.writes.submit(rd.mustSync, entryBytes, () => {
      if (point.index >= this.landed.index) this.landed = point;
      if (!this.unlanded) this.publishLanded();
      this.sendMessages(late);
      if (last !== undefined) {
        this.pending.persistedThrough(last.index);
        this.persistedQueue.push({ index: last.index, term: last.term });
        this.schedule();
      }
      if (appliedSome) this.emit("applied", applied);
    });
    for (const rs of rd.readStates) this.reads.ready(rs.context, rs.index);
    this.reads.appliedThrough(this.applied);
  }

  /** The write carrying the applied state landed: readers waiting for it run now, before the next apply. */
  private publishLanded(): void {
    const readers = this.landedReaders;
    this.landedReaders = [];
    for (const read of readers) read();
  }

  private applyEntries(entries: Entry[], batch: ReturnType<RaftPersistence["newBatch"]>): Map<number, R> {
    const results = new Map<number, R>();
    if (entries.length === 0) return results;
    for (const e of entries) {
      if (e.index <= this.applied) continue; // covered by an installed snapshot
      if (e.type === EntryType.ConfChange) {
        const cc = decodeConfChange(e.data);
        this.conf = this.raft.applyConfChange(cc);
        this.deps.logger.info({ index: e.index, conf: this.conf }, "membership changed");
        this.emit("conf", this.membership, cc);
        this.confApplied(e.index, e.term);
      } else if (e.data.length > 0) {
        results.set(e.index, this.deps.machine.apply(e.index, e.data, batch));
      }
      this.applied = e.index;
      this.appliedTerm = e.term;
      this.appliedBytes += e.data.length;
    }
    this.confLostThrough(this.applied);
    this.deps.persistence.addApplied(batch, this.applied, this.conf);
    return results;
  }

  private sendMessages(messages: Message[]): void {
    const plain: Message[] = [];
    for (const m of messages) {
      if (m.type === MessageType.Snap) this.sendSnapshot(m);
      else plain.push(m);
    }
    if (plain.length > 0) this.deps.links.send(plain);
  }

  private sendSnapshot(m: Message): void {
    if (this.sendingSnapshotTo.has(m.to)) return;
    const source = this.deps.snapshots.open() ?? this.captureAtLogStart();
    if (!source) {
      // Nothing captured since this process started: capture at the next durable apply; raft
      // retries the snapshot after the failure report.
      this.forceCompaction = true;
      this.deferReportSnapshot(m.to, false);
      return;
    }
    this.sendingSnapshotTo.add(m.to);
    this.deps.logger.info({ to: m.to, index: source.meta.index }, "sending snapshot");
    this.deps.links
      .sendSnapshot({ ...m, snapshot: source.meta }, source.chunks)
      .catch(() => false)
      .then((ok) => {
        if (ok) this.stats.snapshotsSent++;
        else this.stats.snapshotsSendFailed++;
        this.sendingSnapshotTo.delete(m.to);
        if (!this.stopped) this.deferReportSnapshot(m.to, ok);
      });
  }

  /**
   * Nothing captured since this process started, and nothing applied past the log's start: the landed
   * state is the snapshot the log starts from. Without this, a leader restarted right after compacting
   * could not catch up a follower until it applied a new entry, which may need that very follower.
   */
  private captureAtLogStart(): ReturnType<SnapshotSource["open"]> {
    if (this.applied !== this.lastCompacted || this.unlanded) return undefined;
    this.deps.snapshots.capture({ index: this.applied, term: this.appliedTerm, conf: this.conf });
    return this.deps.snapshots.open();
  }

  private deferReportSnapshot(to: number, ok: boolean): void {
    this.reportQueue.push({ to, ok });
    this.schedule();
  }

  private afterAdvance(): void {
    const reports = this.reportQueue;
    this.reportQueue = [];
    for (const r of reports) this.raft.reportSnapshot(r.to, r.ok);
  }

  /**
   * Compaction is due once enough applied entries, counted or in bytes, sit in the raft log: what it holds
   * in memory (and loads at restart) is bounded by both. Or a snapshot is wanted and none was captured.
   */
  private compactionDue(): boolean {
    if (this.applied === this.lastCompacted || this.captureWanted || this.captured) return false;
    return this.forceCompaction || this.applied - this.lastCompacted >= this.opts.snapshotEntries || this.appliedBytes >= this.opts.snapshotBytes;
  }

  /**
   * Runs as each write lands, before the next starts: storage then holds exactly the applied point that
   * write carried. Captures the snapshot there when compaction is due.
   */
  private captureLanded(): void {
    // (No write lands during an install: it waits for every write, and the loop submits none meanwhile.)
    if (!this.captureWanted) return;
    const point = this.landed;
    // An install moved the log's start past what this write carried: wait for a later one.
    if (point.index <= this.lastCompacted) return;
    this.deps.snapshots.capture({ index: point.index, term: point.term, conf: point.conf });
    this.captureWanted = false;
    this.forceCompaction = false;
    this.appliedBytes = 0;
    this.captured = point;
    this.schedule();
  }

  /**
   * Compacts the raft log to the captured point. Its state is in storage; the compaction write is synced,
   * which makes that state durable with it (an fsync covers the writes before it).
   */
  private compactCaptured(): void {
    const point = this.captured;
    if (point === undefined) return;
    this.captured = undefined;
    if (point.index <= this.lastCompacted) return;
    this.raft.compact(point.index);
    this.deps.persistence.addCompaction(this.writes.batch(), point);
    this.writes.submit(true, 0, () => undefined);
    this.lastCompacted = point.index;
  }

  private onSoftState(role: Role, leader: number): void {
    const wasLeader = this.role === Role.Leader;
    const leaderChanged = leader !== this.leader;
    this.role = role;
    this.leader = leader;
    this.emit("role", role, leader);
    if (wasLeader && role !== Role.Leader) this.pending.leadershipLost(leader);
    if (leaderChanged && leader !== 0) {
      this.reads.resendUnanswered();
      this.schedule();
    }
  }
}
