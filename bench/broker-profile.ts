// CPU profiles of the three servers (node --cpu-prof) on a cluster of their own, so profiling does not
// distort the measured figures. The profiles cover each process's whole life; the summaries keep only
// the samples taken during the pipelined produce, during Subscribe, and during one-at-a-time produce.
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { BenchCluster } from "./broker-cluster";
import { ReadResult, subscribeAll } from "./broker-consume";
import { ProfileSummary, TimeWindowUs, formatSummary, readCpuProfile, summarizeProfile } from "./broker-cpuprofile";
import type { BrokerBenchOptions } from "./broker-options";
import { ProduceResult, produceOneAtATime, producePipelined } from "./broker-produce";
import { createTopic, leaderAndFollower } from "./broker-session";

export interface NodeProfile {
  nodeId: number;
  role: "leader" | "follower";
  file: string;
  produce: ProfileSummary;
  subscribe: ProfileSummary;
  oneAtATime: ProfileSummary;
}

export interface ProfileRun {
  dir: string;
  recordBytes: number;
  samplingIntervalUs: number;
  produce: ProduceResult;
  subscribe: ReadResult;
  oneAtATime: ProduceResult;
  nodes: NodeProfile[];
}

/** V8's default is 1000 µs; finer sampling shows short hot functions without slowing the servers much. */
const samplingIntervalUs = 500;
/** Functions and files listed per node and phase. */
const topCount = 15;
/** A graceful stop (which writes the profiles) must finish within this long. */
const stopDeadlineMs = 30000;

function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Node names its profiles CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile. */
function profileOfPid(dir: string, pid: number): string {
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile") && f.split(".")[3] === String(pid));
  if (!file) throw new Error(`no cpuprofile for pid ${pid} in ${dir}`);
  return join(dir, file);
}

export async function profileServers(opts: BrokerBenchOptions, dir: string, log: (line: string) => void): Promise<ProfileRun> {
  mkdirSync(dir, { recursive: true });
  const cluster = await BenchCluster.start({
    nodeFlags: ["--cpu-prof", `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${samplingIntervalUs}`],
    serveFlags: opts.serveFlags,
  });
  try {
    const { leaderId } = await leaderAndFollower(cluster);
    const pidOf = new Map(cluster.nodes.map((n) => [n.id, n.pid ?? 0]));
    const leader = cluster.stubsOf(leaderId);
    const recordBytes = opts.sizesBytes[0];
    const topic = "profiled";
    await createTopic(cluster, leaderId, topic);
    const pipeline = { recordBytes, windowRequests: opts.windowRequests, batchRecords: opts.batchRecords, timeoutMs: opts.runTimeoutMs };
    await createTopic(cluster, leaderId, "warmup");
    await producePipelined(leader, { ...pipeline, topic: "warmup", records: Math.max(opts.batchRecords, Math.round(opts.profileRecords / 10)) }, []);
    await produceOneAtATime(leader, { topic: "warmup", recordBytes, records: opts.unaryRecords, timeoutMs: opts.runTimeoutMs }, []);

    const produceWindow: TimeWindowUs = { fromUs: nowUs(), toUs: 0 };
    const produce = await producePipelined(leader, { ...pipeline, topic, records: opts.profileRecords }, []);
    produceWindow.toUs = nowUs();
    log(`  profiled pipelined produce: ${Math.round(produce.recordsPerSec)} rec/s`);

    const subscribeWindow: TimeWindowUs = { fromUs: nowUs(), toUs: 0 };
    const subscribe = await subscribeAll(leader, { topic, recordBytes, records: opts.profileRecords, checkSequence: produce.errors === 0, timeoutMs: opts.runTimeoutMs }, []);
    subscribeWindow.toUs = nowUs();
    log(`  profiled Subscribe: ${Math.round(subscribe.recordsPerSec)} rec/s`);

    await createTopic(cluster, leaderId, "profiled-unary");
    const unaryWindow: TimeWindowUs = { fromUs: nowUs(), toUs: 0 };
    const oneAtATime = await produceOneAtATime(leader, { topic: "profiled-unary", recordBytes, records: opts.unaryRecords, timeoutMs: opts.runTimeoutMs }, []);
    unaryWindow.toUs = nowUs();
    log(`  profiled one-at-a-time produce: ${Math.round(oneAtATime.recordsPerSec)} rec/s`);

    await cluster.stopGracefully(stopDeadlineMs);
    const nodes = cluster.nodes.map((n): NodeProfile => {
      const file = profileOfPid(dir, pidOf.get(n.id) ?? 0);
      const profile = readCpuProfile(file);
      return {
        nodeId: n.id,
        role: n.id === leaderId ? "leader" : "follower",
        file,
        produce: summarizeProfile(profile, produceWindow, topCount),
        subscribe: summarizeProfile(profile, subscribeWindow, topCount),
        oneAtATime: summarizeProfile(profile, unaryWindow, topCount),
      };
    });
    return { dir, recordBytes, samplingIntervalUs, produce, subscribe, oneAtATime, nodes };
  } finally {
    await cluster.cleanup({ keepDirs: opts.keepDirs });
  }
}

export function formatProfileRun(run: ProfileRun): string {
  const parts = [`CPU profiles (${run.recordBytes} B records, sampled every ${run.samplingIntervalUs} µs) in ${run.dir}`];
  for (const n of [...run.nodes].sort((a, b) => (a.role === b.role ? a.nodeId - b.nodeId : a.role === "leader" ? -1 : 1))) {
    parts.push(formatSummary(`node ${n.nodeId} (${n.role}) during pipelined produce`, n.produce));
    parts.push(formatSummary(`node ${n.nodeId} (${n.role}) during Subscribe`, n.subscribe));
    parts.push(formatSummary(`node ${n.nodeId} (${n.role}) during one-at-a-time produce`, n.oneAtATime));
  }
  return parts.join("\n\n");
}
