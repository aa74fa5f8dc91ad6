// `npm run bench -- memory`: what a node's memory does under the loads that used to grow it without
// bound — (1) sustained full-rate produce, (2) one Fetch asking for 2^31-1 bytes from every node, (3)
// hundreds of never-reading Subscribe streams per node while producers run at full rate, (4) a follower
// SIGKILLed and restarted on all that data. Per scenario and node: RSS at start, max and end, and leader
// changes (term increases) during it. Table on stdout, JSON under bench/results/.
import { Command } from "commander";
import type { FetchResponse__Output } from "../src/generated/raftline/v1/FetchResponse";
import { StalledSubscribers } from "../test/support/stalled-subscriber";
import { BenchCluster } from "./broker-cluster";
import { unaryCall } from "./broker-stubs";
import { RssSampler, type RssSummary } from "../test/support/rss-sampler";
import { produceFor, type SustainedResult } from "../test/support/sustained-produce";
import { machineFacts, printTable, writeResults } from "./report";
import { waitFor } from "../test/support/wait";

interface MemoryOptions {
  seconds: number;
  subscribers: number;
  serveFlags: string[];
  nodeFlags: string[];
}

interface ScenarioResult {
  scenario: string;
  rss: Record<number, RssSummary>;
  leaderChanges: number;
  produce?: SustainedResult;
  notes: string;
}

const recordBytes = 1024;
const batchRecords = 256;
const windowRequests = 8;
const sampleIntervalMs = 500;

function parse(argv: string[]): MemoryOptions {
  const program = new Command("bench memory")
    .option("--seconds <n>", "length of the produce scenarios", "60")
    .option("--subscribers <n>", "never-reading Subscribe streams per node in scenario 3", "250")
    .option("--serve <flags>", "extra `raftline serve` flags for every node, space-separated", "")
    .option("--node <flags>", "extra Node.js flags for every node, space-separated", "")
    .parse(argv, { from: "user" });
  const o = program.opts<{ seconds: string; subscribers: string; serve: string; node: string }>();
  const words = (s: string): string[] => s.split(/\s+/).filter((w) => w.length > 0);
  return { seconds: Number(o.seconds), subscribers: Number(o.subscribers), serveFlags: words(o.serve), nodeFlags: words(o.node) };
}

async function maxTerm(cluster: BenchCluster): Promise<number> {
  let term = 0;
  for (const node of cluster.nodes) {
    try {
      const res = await unaryCall<{ nodes: { term: number }[] }>(2000, (o, cb) => cluster.stubsOf(node.id).admin.DescribeCluster({}, o, cb));
      for (const n of res.nodes) term = Math.max(term, Number(n.term));
    } catch {
      // A node too busy to answer: the others tell the term.
    }
  }
  return term;
}

async function measure(cluster: BenchCluster, scenario: string, run: () => Promise<{ produce?: SustainedResult; notes: string }>): Promise<ScenarioResult> {
  const term0 = await maxTerm(cluster);
  const sampler = new RssSampler(() => cluster.pids(), sampleIntervalMs);
  const { produce, notes } = await run();
  const byPid = sampler.stop();
  const rss: Record<number, RssSummary> = {};
  for (const node of cluster.nodes) {
    const summary = node.pid === undefined ? undefined : byPid.get(node.pid);
    if (summary) rss[node.id] = summary;
  }
  const leaderChanges = (await maxTerm(cluster)) - term0;
  return { scenario, rss, leaderChanges, produce, notes };
}

export async function runMemoryBench(argv: string[]): Promise<void> {
  const o = parse(argv);
  const cluster = await BenchCluster.start({ serveFlags: o.serveFlags, nodeFlags: o.nodeFlags });
  const results: ScenarioResult[] = [];
  try {
    const leader = await cluster.waitForLeader(30000);
    await unaryCall(10000, (opts, cb) => cluster.stubsOf(leader).admin.CreateTopic({ name: "memory", partitions: 1 }, opts, cb));
    const load = { topic: "memory", recordBytes, batchRecords, windowRequests, seconds: o.seconds };

    results.push(
      await measure(cluster, "1 sustained produce", async () => {
        const produce = await produceFor(cluster.stubsOf(leader).producer, load);
        return { produce, notes: `${produce.mibAcked.toFixed(0)} MiB acked, ${produce.failedRequests} failed requests` };
      }),
    );

    results.push(
      await measure(cluster, "2 Fetch max_bytes 2^31-1", async () => {
        const answers = await Promise.all(
          cluster.nodes.map((n) =>
            unaryCall<FetchResponse__Output>(30000, (opts, cb) =>
              cluster.stubsOf(n.id).consumer.Fetch({ topic: "memory", partition: 0, offset: 0, maxBytes: 2 ** 31 - 1 }, opts, cb),
            ).then(
              (r) => `node ${n.id}: ${(r.records.reduce((s, x) => s + x.value.length, 0) / 2 ** 20).toFixed(1)} MiB`,
              (err: Error) => `node ${n.id}: ${err.message.slice(0, 80)}`,
            ),
          ),
        );
        return { notes: answers.join("; ") };
      }),
    );

    results.push(
      await measure(cluster, `3 ${o.subscribers} stalled subscribers/node + produce`, async () => {
        const stalled = cluster.nodes.map((n) => new StalledSubscribers(n.clientAddress));
        try {
          for (const s of stalled) for (let k = 0; k < o.subscribers; k++) s.open({ topic: "memory", partition: 0, position: "START_POSITION_EARLIEST" });
          const produce = await produceFor(cluster.stubsOf(leader).producer, load);
          return { produce, notes: `${produce.mibAcked.toFixed(0)} MiB acked (${(produce.mibAcked / produce.seconds).toFixed(1)} MiB/s), ${produce.failedRequests} failed requests${produce.firstError ? ` (${produce.firstError.slice(0, 60)})` : ""}` };
        } finally {
          for (const s of stalled) s.close();
        }
      }),
    );

    results.push(
      await measure(cluster, "4 follower SIGKILL + restart", async () => {
        const follower = cluster.nodes.find((n) => n.id !== leader);
        if (!follower) throw new Error("no follower");
        follower.signal("SIGKILL");
        await follower.waitExit(10000);
        const started = performance.now();
        follower.start();
        await follower.waitServing(120000);
        const servingMs = performance.now() - started;
        await waitFor(
          () =>
            unaryCall<FetchResponse__Output>(2000, (opts, cb) =>
              cluster.stubsOf(follower.id).consumer.Fetch({ topic: "memory", partition: 0, offset: 0, maxBytes: 1024 * 1024 }, opts, cb),
            ).then((r) => r.records.length > 0),
          120000,
          `node ${follower.id} to answer a Fetch after its restart`,
        );
        const answeredMs = performance.now() - started;
        return { notes: `node ${follower.id}: serving after ${servingMs.toFixed(0)} ms, first Fetch answered after ${answeredMs.toFixed(0)} ms` };
      }),
    );
  } finally {
    await cluster.cleanup();
  }

  const rows = results.flatMap((r) =>
    Object.entries(r.rss).map(([id, s]) => [r.scenario, `node ${id}`, s.startMiB.toFixed(0), s.maxMiB.toFixed(0), s.endMiB.toFixed(0), r.leaderChanges, r.notes]),
  );
  printTable("RSS per node (MiB) and leader changes per scenario", ["scenario", "node", "start", "max", "end", "leader changes", "notes"], rows);
  const path = writeResults("memory", { machine: machineFacts(), options: o, results });
  console.log(`\nJSON: ${path}`);
}
