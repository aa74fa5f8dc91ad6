// `npm run bench -- membership`: how long a node added to a running cluster takes to catch up, per GB of
// log. A three-node cluster is filled with --mb MiB of records; then a fourth node joins (serve --join),
// is added (AddNode) and timed until it has applied everything the leader had committed when it was
// added, and until the leader has promoted it to voter. Median of --runs fresh clusters.
import { Command } from "commander";
import { RaftlineClient } from "../src/client";
import { startCluster } from "../test/support/cluster";
import { waitFor } from "../test/support/wait";
import { machineFacts, median, printTable, writeResults } from "./report";

interface Options {
  mb: number;
  runs: number;
  recordBytes: number;
}

interface Run {
  dataMiB: number;
  fillSeconds: number;
  caughtUpSeconds: number;
  voterSeconds: number;
  secondsPerGiB: number;
}

const batchRecords = 16;
const inFlightSends = 8;
const catchUpDeadlineMs = 30 * 60 * 1000;

function parse(argv: string[]): Options {
  const o = new Command("bench membership")
    .option("--mb <n>", "MiB of records in the log before the node joins", "128")
    .option("--runs <n>", "fresh clusters to measure", "3")
    .option("--record-bytes <n>", "bytes per record", "65536")
    .parse(argv, { from: "user" })
    .opts<{ mb: string; runs: string; recordBytes: string }>();
  return { mb: Number(o.mb), runs: Number(o.runs), recordBytes: Number(o.recordBytes) };
}

async function oneRun(o: Options): Promise<Run> {
  const cluster = await startCluster({ cleanupAfter: false });
  const client = new RaftlineClient({ brokers: cluster.brokers, clientId: "bench-membership" });
  try {
    await cluster.waitForLeader(30000);
    const admin = client.admin();
    await admin.createTopic({ name: "fill", partitions: 1 });
    const producer = client.producer({ lingerMs: 0 });
    const value = Buffer.alloc(o.recordBytes, 7);
    const batches = Math.ceil((o.mb * 1024 * 1024) / (o.recordBytes * batchRecords));
    const fillStart = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlightSends }, async () => {
        while (next < batches) {
          next++;
          await producer.send({ topic: "fill", partition: 0, records: Array.from({ length: batchRecords }, () => ({ value })) });
        }
      }),
    );
    const fillSeconds = (Date.now() - fillStart) / 1000;
    const dataMiB = (batches * batchRecords * o.recordBytes) / (1024 * 1024);

    const joiner = await cluster.startJoiner(4, cluster.node(1).clientAddress);
    const target = Math.max(...(await admin.describeCluster()).nodes.map((n) => n.commitIndex));
    const added = Date.now();
    await admin.addNode({ nodeId: 4, clientAddress: joiner.clientAddress, peerAddress: joiner.peerAddress });
    const self = new RaftlineClient({ brokers: [joiner.clientAddress], clientId: "bench-probe", retry: { maxAttempts: 1 } });
    let caughtUpSeconds = 0;
    try {
      await waitFor(
        async () => {
          const own = (await self.admin().describeCluster()).nodes.find((n) => n.id === 4);
          if (caughtUpSeconds === 0 && own !== undefined && own.appliedIndex >= target) caughtUpSeconds = (Date.now() - added) / 1000;
          return caughtUpSeconds > 0;
        },
        catchUpDeadlineMs,
        "the new node to apply the whole log",
        200,
      );
    } finally {
      await self.close({ flush: false });
    }
    await waitFor(async () => (await admin.describeCluster()).nodes.some((n) => n.id === 4 && n.voter), catchUpDeadlineMs, "the new node to become a voter", 200);
    const voterSeconds = (Date.now() - added) / 1000;
    return { dataMiB, fillSeconds, caughtUpSeconds, voterSeconds, secondsPerGiB: caughtUpSeconds / (dataMiB / 1024) };
  } finally {
    await client.close({ flush: false }).catch(() => undefined);
    await cluster.cleanup();
  }
}

export async function runMembershipBench(argv: string[]): Promise<void> {
  const o = parse(argv);
  const runs: Run[] = [];
  for (let r = 0; r < o.runs; r++) runs.push(await oneRun(o));
  printTable(
    `catch-up of a node added to a 3-node cluster holding ${o.mb} MiB (${o.recordBytes}-byte records)`,
    ["run", "data MiB", "fill s", "caught up s", "voter s", "s per GiB"],
    runs.map((r, i) => [String(i + 1), r.dataMiB.toFixed(0), r.fillSeconds.toFixed(1), r.caughtUpSeconds.toFixed(1), r.voterSeconds.toFixed(1), r.secondsPerGiB.toFixed(1)]),
  );
  const summary = {
    caughtUpSecondsMedian: median(runs.map((r) => r.caughtUpSeconds)),
    secondsPerGiBMedian: median(runs.map((r) => r.secondsPerGiB)),
  };
  console.log(`median: caught up in ${summary.caughtUpSecondsMedian.toFixed(1)} s, ${summary.secondsPerGiBMedian.toFixed(1)} s per GiB of log`);
  const path = writeResults("membership", { options: o, runs, ...summary, machine: machineFacts() });
  console.log(`results: ${path}`);
}
