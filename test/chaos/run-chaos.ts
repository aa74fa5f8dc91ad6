// One chaos run: a real cluster (three nodes unless told otherwise), the workloads under steady load, the
// nemesis playing its seeded schedule — each fault healed and the cluster recovered (a leader, a fresh
// acknowledgement, every node caught up) before the next — then the load stops, the nodes converge, every partition is read
// from every node and checked. Everything that happened is in the history file.
import { existsSync, readFileSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import * as grpc from "@grpc/grpc-js";
import { RaftlineClient } from "../../src/client";
import type { CreateTopicResponse__Output } from "../../src/generated/raftline/v1/CreateTopicResponse";
import { type Cluster, startCluster } from "../support/cluster";
import { connectionDefaults, setConnectionDefaults } from "../support/connection-defaults";
import { startKafkaCluster } from "../support/kafka-cluster";
import { secureConnection, secureMaterial } from "../support/secure-cluster";
import { rawStubs, unaryCall } from "../support/raw-stubs";
import { waitFor } from "../support/wait";
import { checkRun, denseOffsets, identicalLogs, referenceLogs } from "./checker";
import { ClusterReader } from "./cluster-reader";
import { History } from "./history";
import { leaderClaims, oneLeaderPerTerm } from "./leader-terms";
import { checkMemberRecords, runningIncarnation } from "./member-records";
import { FaultRecord, SendOp, Violation } from "./model";
import { Nemesis } from "./nemesis";
import { checkSecurityState, setUpSecurityState } from "./security-check";
import { crashedNodes } from "./node-crashes";
import { ChaosReport, buildReport } from "./report";
import { FaultMix, FaultSchedule, defaultFaultMix } from "./schedule";
import type { TopicSpec, Workload } from "./workload";

export interface ChaosOptions {
  seed: number;
  /** Faults keep coming for this long; the one in progress when it ends is still healed and recovered. */
  chaosMs: number;
  /**
   * Faults keep coming past chaosMs until this many leaders were killed (a loaded machine recovers more
   * slowly, so fewer faults fit), but never past maxChaosMs.
   */
  minLeaderKills?: number;
  maxChaosMs?: number;
  historyPath: string;
  workloads: Workload[];
  mix?: FaultMix;
  /** Cluster size, 3 unless given. */
  nodes?: number;
  /** Progress lines (faults, recoveries) as the run goes. */
  log?: (line: string) => void;
  /** Security on: TLS everywhere, mutual TLS between the nodes, every client the superuser. */
  secure?: boolean;
}

export interface ChaosResult {
  report: ChaosReport;
  violations: Violation[];
  faults: readonly FaultRecord[];
  sends: readonly SendOp[];
}

/** Small, so that a wiped node catches up by snapshot and compaction runs under load. */
export const snapshotEntries = 2000;
/** How long the workloads get to make their first progress before the first fault. */
export const warmUpDeadlineMs = 30000;
/** After a fault is healed: a leader all nodes agree on, a fresh acknowledgement, every node caught up. */
export const recoveryDeadlineMs = 30000;
/** After the load stops, how long the nodes get to reach the same high watermarks. */
export const convergeDeadlineMs = 30000;
/** Deadline of one admin call while setting up. */
const adminTimeoutMs = 10000;

/** The CreateTopic request id of a run's topic: the replicated state must remember it through the chaos. */
const createRequestId = (t: TopicSpec): string => `chaos-create-${t.name}`;

async function createTopics(cluster: Cluster, topics: readonly TopicSpec[]): Promise<void> {
  const client = new RaftlineClient({ ...connectionDefaults().client, brokers: cluster.brokers, clientId: "chaos-admin", requestTimeoutMs: adminTimeoutMs });
  try {
    for (const t of topics) await client.admin().createTopic({ name: t.name, partitions: t.partitions, requestId: createRequestId(t) });
  } finally {
    await client.close({ flush: false });
  }
}

/**
 * After the chaos, a retry of each topic's create through every node is still recognised as the same
 * create (answered with the topic), and another request id still is not: the id survived leader changes,
 * snapshots, wiped followers and restarts.
 */
async function createRetries(cluster: Cluster, topics: readonly TopicSpec[]): Promise<Violation[]> {
  const violations: Violation[] = [];
  for (const node of cluster.nodes) {
    const stubs = rawStubs(node.clientAddress);
    try {
      for (const t of topics) {
        const retry = { name: t.name, partitions: t.partitions, requestId: createRequestId(t) };
        const again = await unaryCall<CreateTopicResponse__Output>((o, cb) => stubs.admin.CreateTopic(retry, new grpc.Metadata(), o, cb), adminTimeoutMs).catch(
          (err: unknown) => err as Error,
        );
        if (again instanceof Error || again.topic?.name !== t.name || again.topic.partitions !== t.partitions) {
          violations.push({ check: "create-retry", message: `a retry of ${t.name}'s create via node ${node.id} was not answered with the topic: ${again instanceof Error ? again.message : JSON.stringify(again)}` });
        }
        const other = { ...retry, requestId: `${retry.requestId}-other` };
        const refused = await unaryCall((o, cb) => stubs.admin.CreateTopic(other, new grpc.Metadata(), o, cb), adminTimeoutMs).then(
          () => undefined,
          (err: grpc.ServiceError) => err,
        );
        if (refused?.code !== grpc.status.ALREADY_EXISTS) {
          violations.push({ check: "create-retry", message: `a create of ${t.name} with another request id via node ${node.id} was not ALREADY_EXISTS: ${refused?.details ?? "it succeeded"}` });
        }
      }
    } finally {
      stubs.close();
    }
  }
  return violations;
}

function distinctTopics(workloads: readonly Workload[]): TopicSpec[] {
  const byName = new Map<string, TopicSpec>();
  for (const w of workloads) {
    for (const t of w.topics) {
      const seen = byName.get(t.name);
      if (seen && seen.partitions !== t.partitions) throw new Error(`workloads disagree on topic ${t.name}'s partitions`);
      byName.set(t.name, t);
    }
  }
  return [...byName.values()];
}

/** The cluster is back: a leader, a write sent after the heal acknowledged, every node caught up with it. */
async function recover(cluster: Cluster, reader: ClusterReader, history: History, fault: FaultRecord): Promise<void> {
  const started = Date.now();
  const left = (): number => Math.max(1, recoveryDeadlineMs - (Date.now() - started));
  const leader = await cluster.waitForLeader(left());
  await waitFor(() => history.ackedSentSince(fault.healedAtMs), left(), "a write sent after the heal to be acknowledged");
  const target = await waitFor(() => reader.watermarks(leader), left(), "the leader's watermarks");
  await reader.waitCaughtUp(target, left());
}

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const log = o.log ?? ((): void => undefined);
  const topics = distinctTopics(o.workloads);
  const mix = o.mix ?? defaultFaultMix;
  const history = new History(o.historyPath, { seed: o.seed, chaosMs: o.chaosMs, mix, workloads: o.workloads.map((w) => w.name) });
  const security = o.secure ? await secureMaterial("chaos") : undefined;
  setConnectionDefaults(security && secureConnection(security));
  const clusterOptions = {
    nodes: o.nodes ?? 3,
    cleanupAfter: false,
    env: { RAFTLINE_ENABLE_FAULTS: "1" },
    extraArgs: ["--snapshot-entries", String(snapshotEntries), ...(security?.serveArgs ?? [])],
    clientDefaults: connectionDefaults().client,
  };
  // The Kafka listener speaks neither TLS nor SASL: a run with security on has none.
  const { cluster, brokers: kafkaBrokers } = security
    ? { cluster: await startCluster(clusterOptions), brokers: [] }
    : await startKafkaCluster(clusterOptions);
  // With RAFTLINE_TEST_KEEP_DIRS=1 the nodes' data and logs stay there for study.
  history.note("cluster", {
    root: cluster.root,
    nodes: cluster.nodes.map((n) => ({ id: n.id, clientAddress: n.clientAddress, peerAddress: n.peerAddress, log: n.logPath })),
  });
  const reader = new ClusterReader(cluster, topics);
  const violations: Violation[] = [];
  const crashesReported = new Set<number>();
  /** Adds a violation for each node found dead that was not reported yet; true if any is dead. */
  const noteCrashes = (): boolean => {
    const crashed = crashedNodes(cluster);
    for (const c of crashed.filter((x) => !crashesReported.has(x.node))) {
      crashesReported.add(c.node);
      violations.push({ check: "liveness", message: c.message });
      history.note("crashed", { node: c.node, message: c.message });
    }
    return crashed.length > 0;
  };
  try {
    await cluster.waitForLeader(recoveryDeadlineMs);
    await createTopics(cluster, topics);
    const securitySetup = security ? await setUpSecurityState(cluster) : undefined;
    for (const w of o.workloads) w.start({ brokers: cluster.brokers, kafkaBrokers, history });
    await waitFor(() => o.workloads.every((w) => w.warmedUp()), warmUpDeadlineMs, "every workload to make progress");

    const schedule = new FaultSchedule(o.seed, mix);
    const nemesis = new Nemesis(cluster, history);
    const startMs = history.nowMs();
    const chaosEndMs = startMs + o.chaosMs;
    const hardEndMs = startMs + Math.max(o.chaosMs, o.maxChaosMs ?? o.chaosMs);
    const leaderKills = (): number => history.faults.filter((f) => f.kind === "kill-leader").length;
    const moreFaults = (): boolean => {
      const now = history.nowMs();
      return now < chaosEndMs || (now < hardEndMs && leaderKills() < (o.minLeaderKills ?? 0));
    };
    while (moreFaults() && !noteCrashes()) {
      const plan = schedule.next();
      let fault: FaultRecord | undefined;
      try {
        fault = await nemesis.play(plan);
        await recover(cluster, reader, history, fault);
      } catch (err) {
        const what = fault ? `${fault.kind} on node ${fault.targets.join(", ")}` : `${plan.kind} (not injected)`;
        violations.push({ check: "liveness", message: `the cluster did not recover from ${what}: ${(err as Error).message}` });
        history.note("unrecovered", { kind: plan.kind, error: (err as Error).message });
        noteCrashes();
        break;
      }
      history.faultRecovered(fault);
      log(`${fault.kind} on node ${fault.targets.join(", ")}: recovered after ${Math.round(fault.recoveredAtMs - fault.injectedAtMs)} ms`);
      await delay(plan.restMs);
    }

    noteCrashes();
    await Promise.all(o.workloads.map((w) => w.stop()));
    const { converged, byNode } = await reader.waitConverged(convergeDeadlineMs);
    if (!converged) {
      const views = [...byNode].map(([node, marks]) => `node ${node}: ${[...marks].map(([k, hw]) => `${k}=${hw}`).join(" ")}`);
      violations.push({ check: "identical-logs", message: `the nodes did not reach the same high watermarks: ${views.join("; ")}` });
    }
    const logs = await reader.readAll(byNode);
    const final = { logs, reference: referenceLogs(logs) };
    // Subscribers check their own views (Workload.check); the run checks every producer's sends together.
    const derived = new Set(topics.filter((t) => t.derived).map((t) => t.name));
    const checked = checkRun({ sends: history.sends, logs: logs.filter((l) => !derived.has(l.topic)), subscribers: [] });
    const derivedLogs = logs.filter((l) => derived.has(l.topic));
    violations.push(...identicalLogs(derivedLogs), ...denseOffsets(derivedLogs));
    violations.push(...checked.violations, ...o.workloads.flatMap((w) => w.check(final)), ...(await createRetries(cluster, topics)));
    const nodeLogs = new Map(cluster.nodes.map((n) => [n.id, existsSync(n.logPath) ? readFileSync(n.logPath, "utf8") : ""]));
    violations.push(...oneLeaderPerTerm([...nodeLogs].flatMap(([id, text]) => leaderClaims(id, text))));
    const running = new Map([...nodeLogs].flatMap(([id, text]) => {
      const incarnation = runningIncarnation(text);
      return incarnation === undefined ? [] : [[id, incarnation] as const];
    }));
    violations.push(...(await checkMemberRecords(cluster, running)));
    if (security && securitySetup) violations.push(...(await checkSecurityState(cluster, securitySetup, grpc.credentials.createSsl(Buffer.from(security.ca.certPem)))));
    history.note("final", { converged, records: checked.stats.records });

    const report = buildReport({
      seed: o.seed,
      historyPath: o.historyPath,
      elapsedMs: history.nowMs(),
      faults: history.faults,
      sends: history.sends,
      stats: checked.stats,
      workloads: Object.assign({}, ...o.workloads.map((w) => w.summary())) as Record<string, number>,
      violations,
    });
    history.note("report", { ...report });
    for (const v of violations) history.note("violation", { ...v });
    return { report, violations, faults: history.faults, sends: history.sends };
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${cluster.logTails()}`);
  } finally {
    reader.close();
    history.close();
    await cluster.cleanup();
    setConnectionDefaults(undefined);
  }
}
