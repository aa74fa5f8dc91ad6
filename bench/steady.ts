// `npm run bench -- steady [--minutes M] [--size B]`: pipelined produce at full rate to the leader of a
// local three-node cluster for M minutes, in chunks, reporting per minute the rate, the servers' CPU and
// peak RSS, and the leader changes. Full-rate load must never cost a healthy leader its place (a slow
// loop that misses heartbeats would), and memory must level off rather than grow with the data.
import { Command } from "commander";
import { loadavg } from "node:os";
import { BenchCluster } from "./broker-cluster";
import { positiveInt } from "./broker-options";
import { ProduceResult, producePipelined } from "./broker-produce";
import { createTopic } from "./broker-session";
import { machineFacts, printTable, writeResults } from "./report";

interface SteadyOptions {
  minutes: number;
  sizeBytes: number;
  windowRequests: number;
  batchRecords: number;
}

interface MinuteRow {
  minute: number;
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  errors: number;
  leaderChanges: number;
  serverCpuUsPerRecord: number;
  /** Peak RSS per node during the minute, MiB, leader first. */
  rssMaxMiB: number[];
}

const setupDeadlineMs = 30_000;
/** Records per pipelined chunk: small enough to end each minute near its boundary. */
const chunkRecords = 20_000;
const chunkTimeoutMs = 120_000;

function parse(argv: string[]): SteadyOptions {
  const o = new Command("bench steady")
    .option("--minutes <n>", "how long to produce", positiveInt, 10)
    .option("--size <bytes>", "record value size", positiveInt, 1024)
    .option("--window <n>", "ProduceStream requests in flight", positiveInt, 8)
    .option("--batch <n>", "records per request", positiveInt, 256)
    .parse(argv, { from: "user" })
    .opts<{ minutes: number; size: number; window: number; batch: number }>();
  return { minutes: o.minutes, sizeBytes: o.size, windowRequests: o.window, batchRecords: o.batch };
}

export async function runSteadyBench(argv: string[]): Promise<void> {
  const opts = parse(argv);
  const loadAtStart = loadavg();
  const cluster = await BenchCluster.start();
  const minutes: MinuteRow[] = [];
  try {
    let leaderId = await cluster.waitForLeader(setupDeadlineMs);
    const topic = "steady";
    await createTopic(cluster, leaderId, topic);
    for (let m = 1; m <= opts.minutes; m++) {
      const ends = Date.now() + 60_000;
      const chunks: ProduceResult[] = [];
      const leadersBefore = cluster.leaderEvents();
      while (Date.now() < ends) {
        leaderId = await cluster.waitForLeader(setupDeadlineMs);
        const params = { topic, recordBytes: opts.sizeBytes, records: chunkRecords, windowRequests: opts.windowRequests, batchRecords: opts.batchRecords, timeoutMs: chunkTimeoutMs };
        chunks.push(await producePipelined(cluster.stubsOf(leaderId), params, cluster.pidsLeaderFirst(leaderId)));
      }
      const records = chunks.reduce((sum, c) => sum + c.records, 0);
      const seconds = chunks.reduce((sum, c) => sum + c.seconds, 0);
      const row: MinuteRow = {
        minute: m,
        records,
        recordsPerSec: records / seconds,
        mbPerSec: (records * opts.sizeBytes) / seconds / 1e6,
        errors: chunks.reduce((sum, c) => sum + c.errors, 0),
        leaderChanges: cluster.leaderEvents() - leadersBefore,
        serverCpuUsPerRecord: (chunks.reduce((sum, c) => sum + c.cpu.serverSeconds, 0) / records) * 1e6,
        rssMaxMiB: chunks[0].cpu.perServerRssMaxMiB.map((_, i) => Math.max(...chunks.map((c) => c.cpu.perServerRssMaxMiB[i]))),
      };
      minutes.push(row);
      process.stderr.write(`minute ${m}: ${Math.round(row.recordsPerSec)} rec/s, leader changes ${row.leaderChanges}, RSS ${row.rssMaxMiB.map(Math.round).join("/")} MiB\n`);
    }
  } finally {
    await cluster.cleanup();
  }
  printTable(
    `steady pipelined produce, ${opts.sizeBytes} B, ${opts.windowRequests} × ${opts.batchRecords} records in flight, acks QUORUM (load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(" ")})`,
    ["minute", "records", "rec/s", "MB/s", "errors", "leader changes", "server CPU µs/rec", "RSS max MiB (leader / followers)"],
    minutes.map((r) => [r.minute, r.records, Math.round(r.recordsPerSec), Number(r.mbPerSec.toFixed(1)), r.errors, r.leaderChanges, Math.round(r.serverCpuUsPerRecord), r.rssMaxMiB.map(Math.round).join(" / ")]),
  );
  console.log(`leader changes in ${opts.minutes} min: ${minutes.reduce((sum, r) => sum + r.leaderChanges, 0)}`);
  console.log(`results: ${writeResults("steady", { machine: machineFacts(), loadAtStart, options: opts, minutes })}`);
}
