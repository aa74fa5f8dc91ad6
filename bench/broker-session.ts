// Our side of the benchmark: one three-node cluster, then for every repetition and record size a
// pipelined produce, Fetch and Subscribe of what it wrote, a one-at-a-time produce, an end-to-end run,
// and the bare echo, interleaved so that noise on this shared machine spreads over all of them.
import type { DescribeClusterResponse__Output } from "../src/generated/raftline/v1/DescribeClusterResponse";
import { waitFor } from "../test/support/wait";
import { BenchCluster } from "./broker-cluster";
import { ReadResult, fetchAll, subscribeAll } from "./broker-consume";
import { EndToEndResult, endToEnd } from "./broker-e2e";
import type { BrokerBenchOptions } from "./broker-options";
import { ProduceResult, produceOneAtATime, producePipelined } from "./broker-produce";
import { unaryCall } from "./broker-stubs";
import { EchoResult, measureEcho } from "./grpc-echo";

export interface SizeRun {
  rep: number;
  sizeBytes: number;
  leaderId: number;
  pipelined: ProduceResult;
  fetch: ReadResult;
  subscribe: ReadResult;
  oneAtATime: ProduceResult;
  endToEnd: EndToEndResult;
}

export interface RaftlineRuns {
  runs: SizeRun[];
  echo: EchoResult[];
}

/** Bound on electing the first leader and on a topic becoming visible everywhere. */
const setupDeadlineMs = 30000;
/** Admin calls during set-up. */
const adminTimeoutMs = 10000;
/** Bytes of the bare echo payload: one 100-byte record, as in the one-at-a-time produce. */
const echoPayloadBytes = 100;
const echoWarmupCalls = 300;
/**
 * The warm-up (JIT, connections, first LevelDB files) runs this share of a measured pipelined run, and a
 * whole one-at-a-time run per size: that path takes thousands of calls before V8 has optimized it.
 */
const warmupShare = 0.1;

export async function createTopic(cluster: BenchCluster, leaderId: number, name: string): Promise<void> {
  await unaryCall(adminTimeoutMs, (o, cb) => cluster.stubsOf(leaderId).admin.CreateTopic({ name, partitions: 1 }, o, cb));
  // Subscribers on followers need the topic applied there first. One node at a time: concurrent read
  // barriers from several nodes can collide on the leader (their read contexts are only unique per node).
  await waitFor(
    async () => {
      for (const n of cluster.nodes) await unaryCall(adminTimeoutMs, (o, cb) => cluster.stubsOf(n.id).admin.DescribeTopic({ name }, o, cb));
      return true;
    },
    setupDeadlineMs,
    `topic ${name} on every node`,
  );
}

export async function leaderAndFollower(cluster: BenchCluster): Promise<{ leaderId: number; followerId: number }> {
  const leaderId = await cluster.waitForLeader(setupDeadlineMs);
  const view = await unaryCall<DescribeClusterResponse__Output>(adminTimeoutMs, (o, cb) => cluster.stubsOf(leaderId).admin.DescribeCluster({}, o, cb));
  const follower = view.nodes.find((n) => n.id !== leaderId);
  if (!follower) throw new Error("no follower in the cluster");
  return { leaderId, followerId: follower.id };
}

async function warmUp(cluster: BenchCluster, opts: BrokerBenchOptions, leaderId: number): Promise<void> {
  const topic = "warmup";
  await createTopic(cluster, leaderId, topic);
  const stubs = cluster.stubsOf(leaderId);
  const records = Math.max(opts.batchRecords, Math.round(opts.pipelinedRecords * warmupShare));
  for (const recordBytes of opts.sizesBytes) {
    await producePipelined(stubs, { topic, recordBytes, records, windowRequests: opts.windowRequests, batchRecords: opts.batchRecords, timeoutMs: opts.runTimeoutMs }, []);
    await produceOneAtATime(stubs, { topic, recordBytes, records: opts.unaryRecords, timeoutMs: opts.runTimeoutMs }, []);
  }
}

async function measureSize(cluster: BenchCluster, opts: BrokerBenchOptions, rep: number, sizeBytes: number, log: (line: string) => void): Promise<SizeRun> {
  const { leaderId, followerId } = await leaderAndFollower(cluster);
  const pids = cluster.pidsLeaderFirst(leaderId);
  const leader = cluster.stubsOf(leaderId);
  const tag = `${sizeBytes}b-r${rep}`;
  const timeoutMs = opts.runTimeoutMs;

  await createTopic(cluster, leaderId, `pipelined-${tag}`);
  const pipelined = await producePipelined(
    leader,
    { topic: `pipelined-${tag}`, recordBytes: sizeBytes, records: opts.pipelinedRecords, windowRequests: opts.windowRequests, batchRecords: opts.batchRecords, timeoutMs },
    pids,
  );
  log(`  rep ${rep} ${sizeBytes} B  pipelined ${Math.round(pipelined.recordsPerSec)} rec/s p50 ${pipelined.p50Ms.toFixed(2)} ms errors ${pipelined.errors}`);
  const read = { topic: `pipelined-${tag}`, recordBytes: sizeBytes, records: opts.pipelinedRecords, checkSequence: pipelined.errors === 0, timeoutMs };
  const fetch = await fetchAll(leader, read, pids);
  const subscribe = await subscribeAll(leader, read, pids);
  log(`  rep ${rep} ${sizeBytes} B  fetch ${Math.round(fetch.recordsPerSec)} rec/s, subscribe ${Math.round(subscribe.recordsPerSec)} rec/s, bad ${fetch.bad + subscribe.bad}`);

  await createTopic(cluster, leaderId, `unary-${tag}`);
  const oneAtATime = await produceOneAtATime(leader, { topic: `unary-${tag}`, recordBytes: sizeBytes, records: opts.unaryRecords, timeoutMs }, pids);
  log(`  rep ${rep} ${sizeBytes} B  one at a time ${Math.round(oneAtATime.recordsPerSec)} rec/s p50 ${oneAtATime.p50Ms.toFixed(2)} ms`);

  await createTopic(cluster, leaderId, `e2e-${tag}`);
  const e2e = await endToEnd(leader, leader, cluster.stubsOf(followerId), { topic: `e2e-${tag}`, recordBytes: sizeBytes, records: opts.endToEndRecords, timeoutMs });
  log(`  rep ${rep} ${sizeBytes} B  end-to-end p50 leader ${e2e.leader.p50Ms.toFixed(2)} ms, follower ${e2e.follower.p50Ms.toFixed(2)} ms`);
  return { rep, sizeBytes, leaderId, pipelined, fetch, subscribe, oneAtATime, endToEnd: e2e };
}

export async function measureRaftline(cluster: BenchCluster, opts: BrokerBenchOptions, log: (line: string) => void): Promise<RaftlineRuns> {
  const { leaderId } = await leaderAndFollower(cluster);
  log(`warming up (leader: node ${leaderId})`);
  await warmUp(cluster, opts, leaderId);
  const runs: SizeRun[] = [];
  const echo: EchoResult[] = [];
  for (let rep = 1; rep <= opts.repetitions; rep++) {
    for (const sizeBytes of opts.sizesBytes) runs.push(await measureSize(cluster, opts, rep, sizeBytes, log));
    const e = await measureEcho({ calls: opts.echoCalls, warmupCalls: echoWarmupCalls, payloadBytes: echoPayloadBytes, timeoutMs: opts.runTimeoutMs });
    log(`  rep ${rep} bare gRPC echo p50 ${e.p50Ms.toFixed(3)} ms`);
    echo.push(e);
  }
  return { runs, echo };
}

/**
 * Two clusters (plain and secure) measured turn about, every record size of every repetition on one and
 * then the other, so that the load of this shared machine falls on both alike. Echo runs once per rep.
 */
export async function measureTurnAbout(
  clusters: { plain: BenchCluster; secure: BenchCluster },
  opts: BrokerBenchOptions,
  log: (line: string) => void,
): Promise<{ plain: RaftlineRuns; secure: RaftlineRuns }> {
  const out = { plain: { runs: [] as SizeRun[], echo: [] as EchoResult[] }, secure: { runs: [] as SizeRun[], echo: [] as EchoResult[] } };
  for (const side of ["plain", "secure"] as const) {
    const { leaderId } = await leaderAndFollower(clusters[side]);
    log(`warming up the ${side} cluster (leader: node ${leaderId})`);
    await warmUp(clusters[side], opts, leaderId);
  }
  for (let rep = 1; rep <= opts.repetitions; rep++) {
    for (const sizeBytes of opts.sizesBytes) {
      for (const side of ["plain", "secure"] as const) {
        log(`  ${side}:`);
        out[side].runs.push(await measureSize(clusters[side], opts, rep, sizeBytes, log));
      }
    }
    const e = await measureEcho({ calls: opts.echoCalls, warmupCalls: echoWarmupCalls, payloadBytes: echoPayloadBytes, timeoutMs: opts.runTimeoutMs });
    out.plain.echo.push(e);
    out.secure.echo.push(e);
  }
  return out;
}
