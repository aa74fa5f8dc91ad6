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
import { LevelDbActivity, levelDbActivity } from "./leveldb-log";
import { machineFacts, printTable, writeResults } from "./report";

interface SteadyOptions {
  minutes: number;
  sizeBytes: number;
  windowRequests: number;
  batchRecords: number;
  /** Extra `serve` flags for every node (e.g. LevelDB settings to compare). */
  serveFlags: string[];
  keepDirs: boolean;
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
    .option("--serve-flag <flag>", "an extra `serve` flag for every node, repeatable (e.g. --serve-flag=--db-max-open-files=500)", (v: string, all: string[]) => [...all, v], [])
    .option("--keep-dirs", "keep the nodes' data directories and logs", false)
    .parse(argv, { from: "user" })
    .opts<{ minutes: number; size: number; window: number; batch: number; serveFlag: string[]; keepDirs: boolean }>();
  return { minutes: o.minutes, sizeBytes: o.size, windowRequests: o.window, batchRecords: o.batch, serveFlags: o.serveFlag, keepDirs: o.keepDirs };
}

export async function runSteadyBench(argv: string[]): Promise<void> {
  const opts = parse(argv);
  const loadAtStart = loadavg();
  const cluster = await BenchCluster.start({ serveFlags: opts.serveFlags });
  const minutes: MinuteRow[] = [];
  let storage: (LevelDbActivity & { node: number })[] = [];
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
    storage = cluster.nodes.map((n) => ({ node: n.id, ...levelDbActivity(n.dataDir) }));
  } finally {
    await cluster.cleanup({ keepDirs: opts.keepDirs });
    if (opts.keepDirs) console.log(`data directories and logs kept in ${cluster.root}`);
  }
  printTable(
    `steady pipelined produce, ${opts.sizeBytes} B, ${opts.windowRequests} × ${opts.batchRecords} records in flight, acks QUORUM (load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(" ")})`,
    ["minute", "records", "rec/s", "MB/s", "errors", "leader changes", "server CPU µs/rec", "RSS max MiB (leader / followers)"],
    minutes.map((r) => [r.minute, r.records, Math.round(r.recordsPerSec), Number(r.mbPerSec.toFixed(1)), r.errors, r.leaderChanges, Math.round(r.serverCpuUsPerRecord), r.rssMaxMiB.map(Math.round).join(" / ")]),
  );
  console.log(`leader changes in ${opts.minutes} min: ${minutes.reduce((sum, r) => sum + r.leaderChanges, 0)}`);
  // Write amplification: what LevelDB wrote to tables per byte of record values produced (its log,
  // the WAL, comes on top: about one more).
  const producedBytes = minutes.reduce((sum, r) => sum + r.records, 0) * opts.sizeBytes;
  const mb = (bytes: number): number => Math.round(bytes / 1e6);
  printTable(
    "LevelDB table writes per node over the run (from its LOG)",
    ["node", "flushes", "flushed MB", "compactions", "compacted MB", "tables moved", "write amplification", "L0-full stops", "memtable-full stops"],
    storage.map((s) => [s.node, s.flushes, mb(s.flushedBytes), s.compactions, mb(s.compactedBytes), s.trivialMoves, ((s.flushedBytes + s.compactedBytes) / producedBytes).toFixed(2), s.level0Stops, s.memtableStops]),
  );
  console.log(`results: ${writeResults("steady", { machine: machineFacts(), loadAtStart, options: opts, minutes, storage })}`);
}
