// A simulated cluster: the nodes, the network between them, and the clock that orders everything.
// One event is one step: a node's tick, one message arriving, a disk write finishing, a transport report,
// or an action of the clients, the operator or the nemesis. All randomness comes from the one seeded Prng.
import { ConfChange, ConfState, Message, MessageType, NodeId, RaftConfig, Role } from "../../../src/raft";
import { ClusterView } from "./checkers";
import { History } from "./history";
import { SimNetwork } from "./network";
import { Prng } from "./prng";
import { Scheduler } from "./scheduler";
import { DriverLimits, NodeEnvironment, ProposalFate, ProposalToken, SimNode } from "./sim-node";
import { SimStore } from "./store";

export type SimEvent =
  | { kind: "tick"; node: NodeId; incarnation: number }
  | { kind: "deliver"; msg: Message; snapshotData: Uint8Array | undefined }
  | { kind: "snapshot-status"; from: NodeId; to: NodeId; ok: boolean; incarnation: number }
  | { kind: "unreachable"; from: NodeId; to: NodeId; incarnation: number }
  | { kind: "write-done"; node: NodeId; incarnation: number }
  | { kind: "action"; label: string; run: () => void };

export type NodeFactory = (id: NodeId, store: SimStore, config: RaftConfig, limits: DriverLimits, env: NodeEnvironment) => SimNode;
export type StoreFactory = (conf: ConfState) => SimStore;

export interface ClusterOptions {
  nodeCount: number;
  raft: RaftConfig;
  limits: DriverLimits;
  tickMs: number;
  /**
   * Each node's clock runs fast or slow by up to this many percent. Kept small: Raft without PreVote
   * relies on randomized timeouts, and a node whose clock runs much faster can keep disrupting elections.
   */
  maxClockSkewPercent: number;
  /** How late a transport notices a failed send and reports it. */
  reportDelayMs: number;
  /** How long a disk write takes at most; 0 makes writes complete within the step that starts them. */
  maxDiskWriteMs: number;
  /** Added nodes start with no membership at all instead of the bootstrap one. */
  joinersStartEmpty?: boolean;
  /** Peers of a crashed node notice its connections reset (see reportReset); off keeps older seeds' runs. */
  connectionResets?: boolean;
  createNode?: NodeFactory;
  createStore?: StoreFactory;
}

export interface ClusterListener {
  proposalResolved(node: SimNode, token: ProposalToken, fate: ProposalFate): void;
  confChangeApplied(node: SimNode, cc: ConfChange): void;
}

export class SimCluster implements ClusterView {
  readonly scheduler = new Scheduler<SimEvent>();
  readonly network: SimNetwork;
  readonly history: History;
  private readonly members = new Map<NodeId, SimNode>();
  /** Each node's tick period, fixed for its life: clocks do not agree. */
  private readonly tickPeriodMs = new Map<NodeId, number>();
  private readonly env: NodeEnvironment;
  private nextNodeId: NodeId;
  private readonly bootstrapConf: ConfState;
  listener: ClusterListener | undefined;
  /** What happened inside the current step, for traces; node-level detail only when `verbose`. */
  readonly notes: string[] = [];
  /** The first error a node's loop or client stopped on. */
  private failure: { err: unknown } | undefined;

  constructor(
    readonly prng: Prng,
    readonly options: ClusterOptions,
    verbose = false,
  ) {
    const voters = Array.from({ length: options.nodeCount }, (_, k) => k + 1);
    this.nextNodeId = options.nodeCount + 1;
    this.bootstrapConf = { voters, learners: [] };
    this.network = new SimNetwork(prng);
    this.history = new History({ voters, learners: [] });
    this.env = {
      history: this.history,
      random: prng.asRandom(),
      nowMs: () => this.scheduler.nowMs,
      describe: verbose ? (note) => this.notes.push(note) : undefined,
      send: (msg, snapshotData) => this.send(msg, snapshotData),
      maxDiskWriteMs: options.maxDiskWriteMs,
      writeLater: (node) =>
        this.scheduler.after(this.prng.int(1, options.maxDiskWriteMs), { kind: "write-done", node: node.id, incarnation: node.incarnation }),
      confChangeApplied: (node, cc) => this.listener?.confChangeApplied(node, cc),
      proposalResolved: (node, token, fate) => this.listener?.proposalResolved(node, token, fate),
      fail: (err) => {
        this.failure ??= { err };
      },
    };
    for (const id of voters) this.addNode(id, this.bootstrapConf);
  }

  get nowMs(): number {
    return this.scheduler.nowMs;
  }

  get raft(): RaftConfig {
    return this.options.raft;
  }

  nodes(): Iterable<SimNode> {
    return this.members.values();
  }

  node(id: NodeId): SimNode | undefined {
    return this.members.get(id);
  }

  upNodes(): SimNode[] {
    return [...this.members.values()].filter((n) => n.up);
  }

  downNodes(): SimNode[] {
    return [...this.members.values()].filter((n) => !n.up);
  }

  /** The node that believes it leads the highest term, if any is up. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.members.values()) {
      if (n.up && n.role === Role.Leader && (best === undefined || n.term > best.term)) best = n;
    }
    return best;
  }

  /**
   * A brand-new node with an empty log, ready to be added by a conf change. It starts knowing no members
   * (the leader then sends it the log start's membership in a snapshot), or with the cluster's bootstrap
   * membership at index 0, as a server started with the original member list would.
   */
  provisionNode(): SimNode {
    const id = this.nextNodeId++;
    return this.addNode(id, this.options.joinersStartEmpty === true ? { voters: [], learners: [] } : this.bootstrapConf);
  }

  /** The node is gone for good, disk included (it was removed from the configuration). */
  decommission(id: NodeId): void {
    this.note(`decommission ${id}`);
    this.members.get(id)?.crash();
    this.members.delete(id);
    this.tickPeriodMs.delete(id);
  }

  crash(id: NodeId): void {
    this.note(`crash ${id}`);
    this.members.get(id)?.crash();
    if (this.options.connectionResets !== false) this.reportReset(id);
  }

  /**
   * A killed process's connections reset: each live peer's transport notices a few milliseconds later, or
   * (a third of the time, as when the kernel never answers) not at all and only silence tells.
   */
  private reportReset(id: NodeId): void {
    for (const peer of this.upNodes()) {
      if (peer.id === id || this.prng.int(0, 2) === 0) continue;
      const incarnation = peer.incarnation;
      this.schedule(this.prng.int(0, 5), `reset ${id}->${peer.id}`, () => this.liveIncarnation(peer.id, incarnation)?.connectionLost(id));
    }
  }

  restart(id: NodeId): void {
    const node = this.members.get(id);
    if (node === undefined || node.up) return;
    this.note(`restart ${id}`);
    node.start();
    this.scheduleTick(node, this.prng.int(1, this.options.tickMs));
  }

  /** Records what a fault or an operator did in this step. */
  note(text: string): void {
    this.notes.push(text);
  }

  /**
   * Processes the next event, then lets every node's loop run until it waits on the simulator again (a
   * disk write, a message, a tick): the loops are asynchronous, and their turns are microtasks, which run
   * in a fixed order. Undefined when nothing is left to do; throws what a node stopped on.
   */
  async step(): Promise<SimEvent | undefined> {
    this.notes.length = 0;
    const event = this.scheduler.next();
    if (event === undefined) return undefined;
    this.dispatch(event);
    await settle();
    if (this.failure !== undefined) throw this.failure.err;
    return event;
  }

  /** Lets the nodes booted so far run their first turns (the constructor cannot wait for them). */
  async settled(): Promise<void> {
    await settle();
    if (this.failure !== undefined) throw this.failure.err;
  }

  private dispatch(event: SimEvent): void {
    switch (event.kind) {
      case "tick":
        this.onTick(event.node, event.incarnation);
        break;
      case "deliver":
        this.onDeliver(event.msg, event.snapshotData);
        break;
      case "snapshot-status":
        this.liveIncarnation(event.from, event.incarnation)?.snapshotStatus(event.to, event.ok);
        break;
      case "unreachable":
        this.liveIncarnation(event.from, event.incarnation)?.reportUnreachable(event.to);
        break;
      case "write-done":
        this.liveIncarnation(event.node, event.incarnation)?.writeDone();
        break;
      case "action":
        event.run();
        break;
    }
  }

  /** Runs `run` at a later simulated time, as one step of its own. */
  schedule(delayMs: number, label: string, run: () => void): void {
    this.scheduler.after(delayMs, { kind: "action", label, run });
  }

  private addNode(id: NodeId, conf: ConfState): SimNode {
    const store = this.options.createStore?.(conf) ?? new SimStore(conf);
    const create = this.options.createNode ?? ((...args) => new SimNode(...args));
    const node = create(id, store, this.options.raft, this.options.limits, this.env);
    this.members.set(id, node);
    const skew = this.options.maxClockSkewPercent;
    this.tickPeriodMs.set(id, (this.options.tickMs * (100 + this.prng.int(-skew, skew))) / 100);
    node.start();
    this.scheduleTick(node, this.prng.int(1, this.options.tickMs));
    return node;
  }

  private scheduleTick(node: SimNode, delayMs: number): void {
    this.scheduler.after(delayMs, { kind: "tick", node: node.id, incarnation: node.incarnation });
  }

  private onTick(id: NodeId, incarnation: number): void {
    const node = this.liveIncarnation(id, incarnation);
    if (node === undefined) return;
    node.tick();
    this.scheduleTick(node, this.tickPeriodMs.get(id) ?? this.options.tickMs);
  }

  private onDeliver(msg: Message, snapshotData: Uint8Array | undefined): void {
    const target = this.members.get(msg.to);
    // A link cut while the message was in flight loses it too.
    const delivered = target !== undefined && target.up && !this.network.isCut(msg.from, msg.to);
    if (delivered) target.receive(msg, snapshotData);
    if (msg.type === MessageType.Snap) this.reportLater({ kind: "snapshot-status", from: msg.from, to: msg.to, ok: delivered });
  }

  private send(msg: Message, snapshotData: Uint8Array | undefined): void {
    const delays = this.network.plan(msg);
    for (const delayMs of delays) this.scheduler.after(delayMs, { kind: "deliver", msg, snapshotData });
    if (delays.length > 0) return;
    if (msg.type === MessageType.Snap) this.reportLater({ kind: "snapshot-status", from: msg.from, to: msg.to, ok: false });
    else if (this.network.isCut(msg.from, msg.to)) this.reportLater({ kind: "unreachable", from: msg.from, to: msg.to });
  }

  /** Transport reports reach the sender later, as their own step: never inside the sender's Ready loop. */
  private reportLater(report: { kind: "snapshot-status"; from: NodeId; to: NodeId; ok: boolean } | { kind: "unreachable"; from: NodeId; to: NodeId }): void {
    const sender = this.members.get(report.from);
    if (sender === undefined || !sender.up) return;
    this.scheduler.after(this.options.reportDelayMs, { ...report, incarnation: sender.incarnation });
  }

  private liveIncarnation(id: NodeId, incarnation: number): SimNode | undefined {
    const node = this.members.get(id);
    return node !== undefined && node.up && node.incarnation === incarnation ? node : undefined;
  }
}

/** Resolves once every microtask queued so far, and every one they queue, has run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
