// One seeded run: a chaos phase of `steps` steps (clients, operator and nemesis all active, every safety
// checker run after every step), then a recovery phase (faults stop, the network heals, every node comes
// back) in which the cluster must elect a leader, resolve every open proposal and acknowledge a new
// write within a bounded number of ticks.
import { NodeId } from "../../../src/raft";
import { SimCluster, NodeFactory, StoreFactory } from "./cluster";
import { checkSafety, Violation } from "./checkers";
import { Nemesis } from "./nemesis";
import { Operator } from "./operator";
import { Prng } from "./prng";
import { drawProfile, SimProfile } from "./profile";
import { Recovery } from "./recovery";
import { describeStep, formatMs, TraceRing, TracedStep } from "./trace";
import { Workload } from "./workload";

/** A deliberately broken driver, disk or core wrapper, to prove that a checker catches what it guards. */
export interface Plant {
  readonly name: string;
  createNode?: NodeFactory;
  createStore?: StoreFactory;
  /** Shapes the run so that the bug has a chance to show. */
  tune?(profile: SimProfile): void;
}

export interface SimulationOptions {
  seed: number;
  steps: number;
  /** Defaults to 3 for even seeds and 5 for odd ones. */
  nodeCount?: number;
  /** Overrides the profile's choice of how added nodes start (see FINDINGS.md, F1). */
  joinersStartEmpty?: boolean;
  /** False replays a run as it was before crashes reset connections (regression seeds in FINDINGS.md). */
  connectionResets?: boolean;
  plant?: Plant;
  /** Called with every step's description (TRACE=1 replays). */
  onStep?: (line: string) => void;
}

export interface SimulationFailure extends Violation {
  step: number;
  atMs: number;
  recentSteps: string[];
}

export interface SimulationStats {
  stepsRun: number;
  simulatedMs: number;
  terms: number;
  leadersElected: number;
  writesProposed: number;
  writesAcked: number;
  readsDone: number;
  committedIndex: number;
  snapshotsInstalled: number;
  confChangesCommitted: number;
  faults: number;
  /** Simulated time from the heal until writes were acknowledged and no proposal was open. */
  recoveryMs: number;
}

export interface SimulationResult {
  seed: number;
  steps: number;
  nodeCount: number;
  failure?: SimulationFailure;
  stats: SimulationStats;
}

const traceCapacitySteps = 40;
const noNotes: string[] = [];

export function replayCommand(seed: number, steps: number): string {
  return `SEED=${seed} STEPS=${steps} npm run test:sim`;
}

export function defaultNodeCount(seed: number): number {
  return seed % 2 === 0 ? 3 : 5;
}

export function runSimulation(options: SimulationOptions): Promise<SimulationResult> {
  return new Run(options).execute();
}

class Run {
  private readonly prng: Prng;
  private readonly profile: SimProfile;
  private readonly cluster: SimCluster;
  private readonly workload: Workload;
  private readonly operator: Operator;
  private readonly nemesis: Nemesis;
  private readonly recovery: Recovery;
  private readonly trace = new TraceRing(traceCapacitySteps);
  private readonly nodeCount: number;
  private step = 0;

  constructor(private readonly options: SimulationOptions) {
    this.prng = new Prng(options.seed);
    this.profile = drawProfile(this.prng, options.nodeCount ?? defaultNodeCount(options.seed));
    options.plant?.tune?.(this.profile);
    this.nodeCount = this.profile.nodeCount;
    const p = this.profile;
    const clusterOptions = {
      nodeCount: p.nodeCount,
      raft: p.raft,
      limits: p.limits,
      tickMs: p.tickMs,
      maxClockSkewPercent: p.maxClockSkewPercent,
      reportDelayMs: p.reportDelayMs,
      maxDiskWriteMs: p.maxDiskWriteMs,
      joinersStartEmpty: options.joinersStartEmpty ?? p.joinersStartEmpty,
      connectionResets: options.connectionResets,
      createNode: options.plant?.createNode,
      createStore: options.plant?.createStore,
    };
    this.cluster = new SimCluster(this.prng, clusterOptions, options.onStep !== undefined);
    this.cluster.network.weather = p.weather;
    this.workload = new Workload(this.cluster, p.workload);
    this.operator = new Operator(this.cluster, p.operator, p.nodeCount);
    this.nemesis = new Nemesis(this.cluster, p.nemesis);
    this.recovery = new Recovery(this.cluster, this.workload, p.livenessBoundTicks, p.tickMs);
    this.cluster.listener = {
      proposalResolved: (_node, token, fate) => {
        this.operator.onProposalResolved(token, fate);
        this.recovery.onProposalResolved(token, fate);
      },
      confChangeApplied: (_node, cc) => this.operator.onConfChangeApplied(cc),
    };
  }

  async execute(): Promise<SimulationResult> {
    try {
      await this.cluster.settled();
      return this.result((await this.chaos()) ?? (await this.recover()));
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      return this.result(this.fail({ checker: "exception", message }));
    }
  }

  private async chaos(): Promise<SimulationFailure | undefined> {
    const initial = checkSafety(this.cluster, this.cluster.history);
    if (initial !== undefined) return this.fail(initial);
    this.workload.start();
    this.operator.start();
    this.nemesis.start();
    for (let k = 0; k < this.options.steps; k++) {
      const failure = await this.runStep();
      if (failure !== undefined) return failure;
    }
    return undefined;
  }

  /** Faults stop, the network heals, every node restarts: now the cluster must make progress. */
  private async recover(): Promise<SimulationFailure | undefined> {
    this.recovery.heal(() => {
      this.nemesis.stop();
      this.workload.stop();
      this.operator.stop();
    }, this.minorityToKeepDown());
    for (;;) {
      const state = this.recovery.poll();
      if (state === "recovered") return undefined;
      if (state === "timed-out") return this.fail({ checker: "liveness", message: this.recovery.report() });
      const failure = await this.runStep();
      if (failure !== undefined) return failure;
    }
  }

  /**
   * Often none; sometimes voters that may stay down while a quorum remains up — a quorum in the
   * membership of every node that runs, since a node that has not applied the latest change yet still
   * counts votes in the membership it has.
   */
  private minorityToKeepDown(): NodeId[] {
    if (!this.prng.chance(this.profile.bareQuorumRecoveryRate)) return [];
    const down: NodeId[] = [];
    for (const id of this.cluster.history.conf.voters) {
      if (this.prng.chance(0.5) && this.quorumsSurvive([...down, id])) down.push(id);
    }
    return down;
  }

  private quorumsSurvive(down: readonly NodeId[]): boolean {
    const running = [...this.cluster.nodes()].filter((n) => !down.includes(n.id) && !this.operator.removed.has(n.id));
    const runningIds = new Set(running.map((n) => n.id));
    const confs = [this.cluster.history.conf, ...running.map((n) => n.store.app.conf)];
    return confs.every(({ voters }) => voters.filter((id) => runningIds.has(id)).length > voters.length / 2);
  }

  private async runStep(): Promise<SimulationFailure | undefined> {
    this.step++;
    const history = this.cluster.history;
    history.beginStep(this.step);
    const event = await this.cluster.step();
    if (event === undefined) return this.fail({ checker: "liveness", message: "nothing left to simulate" });
    const notes = this.cluster.notes.length === 0 ? noNotes : this.cluster.notes.slice();
    const traced: TracedStep = { step: this.step, atMs: this.cluster.nowMs, event, notes };
    this.trace.push(traced);
    this.options.onStep?.(describeStep(traced));
    const found = checkSafety(this.cluster, history);
    return found === undefined ? undefined : this.fail(found);
  }

  private fail(violation: Violation): SimulationFailure {
    return { ...violation, step: this.step, atMs: this.cluster.nowMs, recentSteps: this.trace.lines() };
  }

  private result(failure: SimulationFailure | undefined): SimulationResult {
    const history = this.cluster.history;
    let faults = 0;
    for (const count of this.nemesis.counts.values()) faults += count;
    return {
      seed: this.options.seed,
      steps: this.options.steps,
      nodeCount: this.nodeCount,
      failure,
      stats: {
        stepsRun: this.step,
        simulatedMs: this.cluster.nowMs,
        terms: Math.max(0, ...history.leadersByTerm.keys()),
        leadersElected: history.leadersByTerm.size,
        writesProposed: this.workload.writesProposed,
        writesAcked: history.acks.length,
        readsDone: history.readsDone,
        committedIndex: history.maxCommittedIndex,
        snapshotsInstalled: history.snapshotsInstalled,
        confChangesCommitted: this.operator.changesCommitted,
        faults,
        recoveryMs: this.recovery.recoveryMs,
      },
    };
  }
}

/** The failure as a report: what broke, where, the replay command, and the steps that led there. */
export function formatFailure(result: SimulationResult): string {
  const f = result.failure;
  if (f === undefined) return `seed ${result.seed}: ok`;
  return [
    `seed ${result.seed} (${result.nodeCount} nodes) broke ${f.checker} at step ${f.step} (${formatMs(f.atMs)} ms simulated):`,
    `  ${f.message}`,
    `replay: ${replayCommand(result.seed, result.steps)}   (add TRACE=1 to print every step)`,
    `last ${f.recentSteps.length} steps:`,
    ...f.recentSteps.map((line) => `  ${line}`),
  ].join("\n");
}
