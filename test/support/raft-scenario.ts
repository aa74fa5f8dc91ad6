// A small network of RawNodes driven step by step, for scenario tests that read like the Raft paper:
//
//   const s = RaftScenario.cluster([1, 2, 3]);
//   s.campaign(1);
//   s.stabilize();
//   assert.equal(s.role(1), Role.Leader);
//
// Each node has a fake driver that keeps the Ready contract: it persists to an in-memory "disk" (so
// restart() can rebuild the node), queues the messages on the network, applies committed entries
// (conf changes included), then calls advance(). Messages stay queued until deliver()/stabilize(), so a
// test can hold, drop, reorder or partition them.
import { seededRandom } from "./seeded-random";
import {
  ConfChange,
  ConfState,
  decodeConfChange,
  Entry,
  EntryType,
  HardState,
  Message,
  MessageType,
  NodeId,
  NONE,
  ProposeResult,
  RaftConfig,
  RaftStatus,
  RawNode,
  ReadState,
  Role,
  SnapshotMeta,
} from "../../src/raft";

export interface ScenarioOptions {
  preVote?: boolean;
  checkQuorum?: boolean;
  electionTicks?: number;
  heartbeatTicks?: number;
  maxMsgBytes?: number;
  maxInflightMsgs?: number;
  maxUncommittedBytes?: number;
  learnerCatchUpEntries?: number;
  seed?: number;
}

/** What a node's driver persisted: enough to restart it. */
interface Disk {
  hardState: HardState;
  snapshot: SnapshotMeta;
  entries: Entry[];
  applied: number;
  conf: ConfState;
}

/** The application's snapshot: the applied data strings up to an index. */
interface AppSnapshot {
  index: number;
  data: string[];
}

interface Peer {
  node: RawNode;
  config: RaftConfig;
  disk: Disk;
  /** Data of the applied Normal entries, in order (the "state machine"). */
  applied: string[];
  /** Index of the last applied entry and the membership after each applied conf change. */
  confHistory: { index: number; conf: ConfState }[];
  appSnapshot: AppSnapshot | undefined;
  /** Snapshot data received over the network, waiting for the Ready that installs it. */
  incomingSnapshot: AppSnapshot | undefined;
  readStates: ReadState[];
  random: () => number;
}

export type MessageFilter = (m: Message) => boolean;

/** Bound on delivery rounds in stabilize(): a livelock fails the test instead of hanging it. */
const maxStabilizeRounds = 10_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

export class RaftScenario {
  private readonly peers = new Map<NodeId, Peer>();
  /** Messages sent and not yet delivered, in send order. */
  private queue: Message[] = [];
  /** Links that drop messages, as "from->to". */
  private readonly cutLinks = new Set<string>();
  private readonly options: Required<ScenarioOptions>;
  /** Snapshot data as sent, by "from:index", like a transport streaming it next to the Snap message. */
  private readonly sentSnapshots = new Map<string, AppSnapshot>();
  /** Everything each node ever reported as committed, by index: checks that commits never change. */
  private readonly committedTerms = new Map<number, number>();

  private constructor(options: ScenarioOptions) {
    this.options = {
      preVote: true,
      checkQuorum: true,
      electionTicks: 10,
      heartbeatTicks: 1,
      maxMsgBytes: 1024 * 1024,
      maxInflightMsgs: 256,
      maxUncommittedBytes: 1024 * 1024,
      learnerCatchUpEntries: 10,
      seed: 1,
      ...options,
    };
  }

  /** A brand-new cluster whose members are all voters. */
  static cluster(ids: NodeId[], options: ScenarioOptions = {}): RaftScenario {
    const logs: Record<number, number[]> = {};
    for (const id of ids) logs[id] = [];
    return RaftScenario.withLogs(logs, options);
  }

  /**
   * A cluster whose nodes start with the given logs, written as the term of each entry from index 1
   * (e.g. [1, 1, 4]). Every node starts at the highest term in any log, as a follower that voted for
   * no one, with nothing committed beyond `commit`.
   */
  static withLogs(logs: Record<number, number[]>, options: ScenarioOptions & { commit?: number } = {}): RaftScenario {
    const s = new RaftScenario(options);
    const ids = Object.keys(logs).map(Number);
    const conf: ConfState = { voters: ids, learners: [] };
    const term = Math.max(0, ...ids.flatMap((id) => logs[id]));
    for (const id of ids) {
      const entries = logs[id].map((t, k) => entry(k + 1, t, `${k + 1}@${t}`));
      const commit = Math.min(options.commit ?? 0, entries.length);
      s.start(id, {
        hardState: { term, vote: NONE, commit },
        snapshot: { index: 0, term: 0, conf },
        entries,
        applied: 0,
        conf,
      });
    }
    return s;
  }

  /** Starts a new, empty node that knows the given membership (e.g. one about to be added). */
  addNode(id: NodeId, conf: ConfState): void {
    this.start(id, {
      hardState: { term: 0, vote: NONE, commit: 0 },
      snapshot: { index: 0, term: 0, conf },
      entries: [],
      applied: 0,
      conf,
    });
  }

  // ---- driving the nodes -----------------------------------------------------------------------------

  campaign(id: NodeId): void {
    this.peer(id).node.campaign();
    this.process(id);
  }

  /** Node `id`'s driver saw its connection to `from` reset (a killed process, not a silent one). */
  connectionLost(id: NodeId, from: NodeId): void {
    this.peer(id).node.leaderConnectionLost(from);
    this.process(id);
  }

  /** Advances one node's logical clock `n` ticks, handling its Ready after each. */
  tick(id: NodeId, n = 1): void {
    for (let k = 0; k < n; k++) {
      this.peer(id).node.tick();
      this.process(id);
    }
  }

  /** Ticks every node `n` times, delivering nothing (messages stay queued). */
  tickAll(n = 1): void {
    for (let k = 0; k < n; k++) for (const id of this.ids()) this.tick(id);
  }

  /** Ticks every node and delivers every message after each tick, `n` times. */
  tickAndStabilize(n: number): void {
    for (let k = 0; k < n; k++) {
      this.tickAll(1);
      this.stabilize();
    }
  }

  propose(id: NodeId, ...data: string[]): ProposeResult {
    const result = this.peer(id).node.propose(data.map(bytes));
    this.process(id);
    return result;
  }

  proposeConfChange(id: NodeId, cc: ConfChange): ProposeResult {
    const result = this.peer(id).node.proposeConfChange(cc);
    this.process(id);
    return result;
  }

  transferLeadership(from: NodeId, to: NodeId): ProposeResult {
    const result = this.peer(from).node.transferLeadership(to);
    this.process(from);
    return result;
  }

  readIndex(id: NodeId, context: string): ProposeResult {
    const result = this.peer(id).node.readIndex(context);
    this.process(id);
    return result;
  }

  /** The node's application takes a snapshot at `index` and compacts its log. */
  compact(id: NodeId, index: number): void {
    const p = this.peer(id);
    p.appSnapshot = { index, data: p.applied.slice(0, this.appliedCountAt(p, index)) };
    p.node.compact(index);
    const term = p.disk.entries.find((e) => e.index === index)?.term ?? p.disk.snapshot.term;
    p.disk.snapshot = { index, term, conf: this.confAt(p, index) };
    p.disk.entries = p.disk.entries.filter((e) => e.index > index);
  }

  /**
   * Crash and restart: the node is rebuilt from what its driver persisted; messages it had queued are
   * lost. `appliedThrough` models a state machine that had made less progress durable than the log.
   */
  restart(id: NodeId, appliedThrough?: number): void {
    const p = this.peer(id);
    this.queue = this.queue.filter((m) => m.from !== id);
    const d = p.disk;
    d.applied = Math.max(d.snapshot.index, Math.min(appliedThrough ?? d.applied, d.applied));
    p.applied = p.applied.slice(0, this.appliedCountAt(p, d.applied));
    p.confHistory = p.confHistory.filter((h, k) => k === 0 || h.index <= d.applied);
    d.conf = this.confAt(p, d.applied);
    p.node = new RawNode(
      p.config,
      { hardState: { ...d.hardState }, snapshot: d.snapshot, entries: d.entries.slice(), applied: d.applied, conf: d.conf },
      p.random,
    );
    this.process(id);
  }

  /** The node lost its disk: it restarts empty, knowing only `conf` (e.g. the member list it was started with). */
  wipe(id: NodeId, conf: ConfState): void {
    this.peer(id);
    this.queue = this.queue.filter((m) => m.from !== id);
    this.peers.delete(id);
    this.start(id, {
      hardState: { term: 0, vote: NONE, commit: 0 },
      snapshot: { index: 0, term: 0, conf },
      entries: [],
      applied: 0,
      conf,
    });
  }

  // ---- the network -------------------------------------------------------------------------------------

  /** Drops every message to or from `id` until heal(). */
  isolate(id: NodeId): void {
    for (const other of this.ids()) {
      if (other === id) continue;
      this.cut(id, other);
    }
  }

  /** Drops messages between a and b, both ways, until heal(). */
  cut(a: NodeId, b: NodeId): void {
    this.cutLinks.add(`${a}->${b}`);
    this.cutLinks.add(`${b}->${a}`);
  }

  heal(): void {
    this.cutLinks.clear();
  }

  /** Puts a hand-made message on the network, as if its sender had sent it. */
  inject(m: Message): void {
    this.queue.push(m);
  }

  /** Messages queued and not yet delivered (optionally only those matching). */
  pending(filter: MessageFilter = () => true): Message[] {
    return this.queue.filter(filter);
  }

  /** Discards queued messages matching `filter`; returns how many. */
  drop(filter: MessageFilter = () => true): number {
    const dropped = this.queue.filter(filter);
    this.queue = this.queue.filter((m) => !filter(m));
    for (const m of dropped) this.lost(m);
    return dropped.length;
  }

  /**
   * Delivers the queued messages matching `filter` (one round: answers they cause are queued, not
   * delivered). Returns how many were delivered.
   */
  deliver(filter: MessageFilter = () => true): number {
    const now = this.queue.filter(filter);
    this.queue = this.queue.filter((m) => !filter(m));
    const touched = new Set<NodeId>();
    for (const m of now) {
      if (this.cutLinks.has(`${m.from}->${m.to}`)) {
        this.lost(m);
        continue;
      }
      const target = this.peers.get(m.to);
      if (target === undefined) continue;
      if (m.type === MessageType.Snap) this.carrySnapshot(m, target);
      target.node.step(m);
      touched.add(m.to);
      if (m.type === MessageType.Snap) this.peers.get(m.from)?.node.reportSnapshot(m.to, true);
      touched.add(m.from);
    }
    for (const id of touched) if (this.peers.has(id)) this.process(id);
    return now.length;
  }

  /** Delivers rounds of messages until the network is quiet. */
  stabilize(): void {
    for (let round = 0; round < maxStabilizeRounds; round++) {
      if (this.queue.length === 0) return;
      this.deliver();
    }
    throw new Error(`stabilize: still busy after ${maxStabilizeRounds} rounds`);
  }

  // ---- looking at the nodes ----------------------------------------------------------------------------

  ids(): NodeId[] {
    return [...this.peers.keys()];
  }

  node(id: NodeId): RawNode {
    return this.peer(id).node;
  }

  status(id: NodeId): RaftStatus {
    return this.peer(id).node.status();
  }

  role(id: NodeId): Role {
    return this.status(id).role;
  }

  term(id: NodeId): number {
    return this.status(id).term;
  }

  commit(id: NodeId): number {
    return this.status(id).commit;
  }

  leaderOf(id: NodeId): NodeId {
    return this.status(id).leader;
  }

  /** The nodes that currently believe they lead, with their terms. */
  leaders(): { id: NodeId; term: number }[] {
    return this.ids()
      .filter((id) => this.role(id) === Role.Leader)
      .map((id) => ({ id, term: this.term(id) }));
  }

  /** The terms of the node's persisted log entries from the first uncompacted index, e.g. "1 1 4 4". */
  logTerms(id: NodeId): string {
    return this.peer(id)
      .disk.entries.map((e) => e.term)
      .join(" ");
  }

  /** The data of the Normal entries the node applied, in order (the no-op entries are skipped). */
  applied(id: NodeId): string[] {
    return this.peer(id).applied.slice();
  }

  /** ReadStates the node's driver received, in order. */
  readStates(id: NodeId): ReadState[] {
    return this.peer(id).readStates.slice();
  }

  /** One line per node, for failure messages: "1 leader t2 commit 3 log [1 1 2]". */
  describe(): string {
    return this.ids()
      .map((id) => `${id} ${Role[this.role(id)].toLowerCase()} t${this.term(id)} commit ${this.commit(id)} log [${this.logTerms(id)}]`)
      .join("\n");
  }

  // ---- the fake driver -----------------------------------------------------------------------------------

  private start(id: NodeId, state: Disk): void {
    const config: RaftConfig = {
      id,
      electionTicks: this.options.electionTicks,
      heartbeatTicks: this.options.heartbeatTicks,
      preVote: this.options.preVote,
      checkQuorum: this.options.checkQuorum,
      maxMsgBytes: this.options.maxMsgBytes,
      maxInflightMsgs: this.options.maxInflightMsgs,
      maxUncommittedBytes: this.options.maxUncommittedBytes,
      learnerCatchUpEntries: this.options.learnerCatchUpEntries,
    };
    const random = seededRandom(this.options.seed * 7919 + id);
    const disk: Disk = { ...state, entries: state.entries.slice() };
    this.peers.set(id, {
      node: new RawNode(config, state, random),
      config,
      disk,
      applied: [],
      confHistory: [{ index: state.snapshot.index, conf: state.conf }],
      // A new node's application state at index 0 is empty; that too can be sent as a snapshot.
      appSnapshot: state.snapshot.index === 0 ? { index: 0, data: [] } : undefined,
      incomingSnapshot: undefined,
      readStates: [],
      random,
    });
    this.process(id);
  }

  /** Handles every Ready the node has, in the order the Ready contract demands. */
  private process(id: NodeId): void {
    const p = this.peer(id);
    while (p.node.hasReady()) {
      const rd = p.node.ready();
      // 1. Persist.
      if (rd.snapshot !== undefined) {
        p.disk.snapshot = rd.snapshot;
        p.disk.entries = [];
        p.disk.conf = rd.snapshot.conf;
        p.disk.applied = rd.snapshot.index;
      }
      if (rd.entries.length > 0) {
        const first = rd.entries[0].index;
        p.disk.entries = p.disk.entries.filter((e) => e.index < first).concat(rd.entries);
      }
      if (rd.hardState !== undefined) p.disk.hardState = { ...rd.hardState };
      // 2. Send.
      for (const m of rd.messages) {
        if (this.cutLinks.has(`${m.from}->${m.to}`)) {
          this.lost(m);
          continue;
        }
        if (m.type === MessageType.Snap && m.snapshot !== undefined && p.appSnapshot?.index === m.snapshot.index) {
          this.sentSnapshots.set(`${id}:${m.snapshot.index}`, p.appSnapshot);
        }
        this.queue.push(m);
      }
      // 3. Apply.
      if (rd.snapshot !== undefined) this.installSnapshot(p, rd.snapshot);
      for (const e of rd.committedEntries) this.apply(p, e);
      p.readStates.push(...rd.readStates);
      // 4. Advance.
      p.node.advance(rd);
    }
  }

  /** Like a transport, tell the sender when a snapshot could not be delivered. */
  private lost(m: Message): void {
    if (m.type === MessageType.Snap) this.peers.get(m.from)?.node.reportSnapshot(m.to, false);
  }

  private apply(p: Peer, e: Entry): void {
    const known = this.committedTerms.get(e.index);
    if (known !== undefined && known !== e.term) {
      throw new Error(`safety: node ${p.config.id} applied (${e.index}, t${e.term}) but t${known} was committed there`);
    }
    this.committedTerms.set(e.index, e.term);
    if (e.type === EntryType.ConfChange) {
      const conf = p.node.applyConfChange(decodeConfChange(e.data));
      p.disk.conf = conf;
      p.confHistory.push({ index: e.index, conf });
    } else if (e.data.length > 0) {
      p.applied.push(decoder.decode(e.data));
    }
    p.disk.applied = e.index;
  }

  private carrySnapshot(m: Message, target: Peer): void {
    const source = m.snapshot === undefined ? undefined : this.sentSnapshots.get(`${m.from}:${m.snapshot.index}`);
    if (source !== undefined) {
      target.incomingSnapshot = { index: source.index, data: source.data.slice() };
    }
  }

  private installSnapshot(p: Peer, meta: SnapshotMeta): void {
    const incoming = p.incomingSnapshot;
    if (incoming === undefined || incoming.index !== meta.index) {
      throw new Error(`node ${p.config.id}: Ready carries snapshot ${meta.index} but no such data arrived`);
    }
    p.applied = incoming.data.slice();
    p.appSnapshot = incoming;
    p.incomingSnapshot = undefined;
    p.confHistory.push({ index: meta.index, conf: meta.conf });
  }

  /** How many applied data strings come from entries up to `index`. */
  private appliedCountAt(p: Peer, index: number): number {
    const fromSnapshot = p.appSnapshot !== undefined && p.appSnapshot.index <= index ? p.appSnapshot : undefined;
    let count = fromSnapshot?.data.length ?? 0;
    const after = fromSnapshot?.index ?? 0;
    for (const e of p.disk.entries) {
      if (e.index > after && e.index <= index && e.type === EntryType.Normal && e.data.length > 0) count++;
    }
    return count;
  }

  private confAt(p: Peer, index: number): ConfState {
    let conf = p.confHistory[0].conf;
    for (const h of p.confHistory) if (h.index <= index) conf = h.conf;
    return conf;
  }

  private peer(id: NodeId): Peer {
    const p = this.peers.get(id);
    if (p === undefined) throw new Error(`no node ${id}`);
    return p;
  }
}

export function entry(index: number, term: number, data = ""): Entry {
  return { index, term, type: EntryType.Normal, data: bytes(data) };
}

/** Message filters for deliver()/drop()/pending(). */
export const to = (id: NodeId): MessageFilter => (m) => m.to === id;
export const from = (id: NodeId): MessageFilter => (m) => m.from === id;
export const ofType = (type: MessageType): MessageFilter => (m) => m.type === type;
export const between = (a: NodeId, b: NodeId): MessageFilter => (m) => m.from === a && m.to === b;
