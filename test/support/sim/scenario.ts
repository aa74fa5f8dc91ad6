// Scripted runs: the same simulated cluster, driver and checkers as the seeded suite, but steered step by
// step — cut this link, crash that node, make this one campaign, run until something holds — so that a
// scenario from the paper can be written down and replayed exactly. No nemesis, no random clients.
import { NodeId, RaftConfig, Role } from "../../../src/raft";
import { checkSafety, Violation } from "./checkers";
import { SimCluster } from "./cluster";
import { Prng } from "./prng";
import { ProposalFate, SimNode } from "./sim-node";
import { Plant } from "./simulation";

export interface ScenarioOptions {
  nodeCount: number;
  /** Overrides of the scenario defaults: no spontaneous elections, no PreVote, no CheckQuorum. */
  raft?: Partial<RaftConfig>;
  plant?: Plant;
  seed?: number;
  /** Snapshot and compact every this many applied entries (default: never). */
  compactEveryEntries?: number;
}

/** Bound on steps one `runUntil` may take before the scenario counts as stuck. */
const maxStepsPerWait = 20_000;
/** Bound on elections `elect` starts before giving up. */
const maxCampaigns = 5;
/** How long `elect` waits for one election to be won. */
const electionWaitMs = 300;

export class Scenario {
  readonly cluster: SimCluster;
  /** The first safety violation, once a checker fired; the scenario stops stepping then. */
  violation: Violation | undefined;
  private readonly fates = new Map<number, ProposalFate>();
  private nextWriteId = 1;

  constructor(options: ScenarioOptions) {
    const raft: RaftConfig = {
      id: 0,
      // Long enough that no election starts unless the script calls one.
      electionTicks: 1000,
      heartbeatTicks: 1,
      preVote: false,
      checkQuorum: false,
      maxMsgBytes: 1 << 20,
      maxInflightMsgs: 256,
      maxUncommittedBytes: 1 << 30,
      learnerCatchUpEntries: 50,
      ...options.raft,
    };
    this.cluster = new SimCluster(new Prng(options.seed ?? 1), {
      nodeCount: options.nodeCount,
      raft,
      limits: { compactEveryEntries: options.compactEveryEntries ?? Number.MAX_SAFE_INTEGER, readTimeoutMs: 1000, maxPendingReads: 32, maxReadyRoundsPerInput: 64 },
      tickMs: 10,
      maxClockSkewPercent: 0,
      reportDelayMs: 5,
      maxDiskWriteMs: 0,
      createNode: options.plant?.createNode,
      createStore: options.plant?.createStore,
    });
    this.cluster.listener = {
      proposalResolved: (_node, token, fate) => {
        if (token.kind === "write") this.fates.set(token.writeId, fate);
      },
      confChangeApplied: () => {},
    };
  }

  node(id: NodeId): SimNode {
    const node = this.cluster.node(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  /** Steps until `done()` holds (true) or a checker fires (false). */
  async runUntil(what: string, done: () => boolean): Promise<boolean> {
    await this.cluster.settled();
    for (let k = 0; k < maxStepsPerWait; k++) {
      if (this.violation !== undefined) return false;
      if (done()) return true;
      await this.step();
    }
    throw new Error(`scenario stuck: ${what} did not happen within ${maxStepsPerWait} steps`);
  }

  /** Lets simulated time pass. */
  runForMs(durationMs: number): Promise<boolean> {
    const untilMs = this.cluster.nowMs + durationMs;
    return this.runUntil(`${durationMs} ms passing`, () => this.cluster.nowMs >= untilMs);
  }

  /** Performs `action` as a step of its own, so that the checkers see what it causes. */
  act(label: string, action: () => void): Promise<boolean> {
    let done = false;
    this.cluster.schedule(0, label, () => {
      action();
      done = true;
    });
    return this.runUntil(label, () => done);
  }

  /** Makes `id` campaign until it leads (a lost election raises its term, so the next attempt can win). */
  async elect(id: NodeId): Promise<boolean> {
    const node = this.node(id);
    for (let attempt = 0; attempt < maxCampaigns; attempt++) {
      if (!(await this.act(`node ${id} campaigns`, () => node.campaign()))) return false;
      const untilMs = this.cluster.nowMs + electionWaitMs;
      const decided = () => node.role === Role.Leader || this.cluster.nowMs >= untilMs;
      if (!(await this.runUntil(`node ${id}'s election`, decided))) return false;
      if (node.role === Role.Leader) return true;
    }
    throw new Error(`node ${id} did not win an election in ${maxCampaigns} attempts`);
  }

  /** Proposes one write at `id`, which must accept it; returns the write's id. */
  async write(id: NodeId): Promise<number> {
    const writeId = this.nextWriteId++;
    let accepted = false;
    await this.act(`write ${writeId} at node ${id}`, () => {
      accepted = this.node(id).proposeWrites([writeId]).ok;
    });
    if (!accepted && this.violation === undefined) throw new Error(`node ${id} refused write ${writeId}`);
    return writeId;
  }

  fate(writeId: number): ProposalFate | undefined {
    return this.fates.get(writeId);
  }

  private async step(): Promise<void> {
    const history = this.cluster.history;
    history.beginStep(history.step + 1);
    const event = await this.cluster.step().catch((err: unknown) => {
      this.violation = { checker: "exception", message: err instanceof Error ? (err.stack ?? err.message) : String(err) };
      return null;
    });
    if (event === null) return;
    if (event === undefined) throw new Error("scenario ran out of events");
    this.violation = checkSafety(this.cluster, history);
  }
}
