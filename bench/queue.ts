// `npm run bench -- queue`: work queues (share groups) on a local three-node cluster. (1) Accepted
// records per second with 1, 4 and 16 workers, streaming (for await, ack each; prefetch 1000 like the
// RabbitMQ consumer) and Pop (batches of up
// to 100, ack each), for 100 B and 1 KiB records pre-produced to a four-partition topic. (2) Redelivery
// latency: from a lock's expiry (the time its delivery names) until a waiting Pop has the record again,
// and from a RELEASE until then. Beside it, in the same run, RabbitMQ quorum queues from
// ../shared/anchors/rabbitmq: publish with confirms, then consume with manual acks (prefetch 1000); the
// ratio of accepted records/s to RabbitMQ's consume rate is printed. Machine load goes with the figures.
import { loadavg } from "node:os";
import { Command } from "commander";
import { RaftlineClient, type QueueDelivery } from "../src/client";
import { waitFor } from "../test/support/wait";
import { BenchCluster } from "./broker-cluster";
import { RabbitResult, defaultRabbitAnchorDir, runRabbitAnchor } from "./rabbitmq-anchor";
import { machineFacts, median, printTable, writeResults } from "./report";

interface QueueBenchOptions {
  records: number;
  repeats: number;
  rabbitmq: boolean;
  rabbitMessages: number;
  rabbitReps: number;
  workers: number[];
  sizes: number[];
  modes: ("stream" | "pop")[];
  redelivery: boolean;
  /** Where the servers write CPU profiles (node --cpu-prof); none when empty. */
  profileDir: string;
}

const partitions = 4;
/** A stream worker's credit: RabbitMQ's consumer below runs with prefetch 1000 too. */
const streamPrefetch = 1000;
const sendRecords = 500;
const deadlineMs = 300_000;

function parse(argv: string[]): QueueBenchOptions {
  const o = new Command("bench queue")
    .option("--records <n>", "records per throughput run", "20000")
    .option("--repeats <n>", "redelivery latency samples", "5")
    .option("--workers <list>", "worker counts", "1,4,16")
    .option("--no-rabbitmq", "skip the RabbitMQ quorum-queue reference")
    .option("--rabbit-messages <n>", "messages per RabbitMQ run", "20000")
    .option("--rabbit-reps <n>", "RabbitMQ runs per size (median)", "3")
    .option("--sizes <list>", "record sizes in bytes", "100,1024")
    .option("--modes <list>", "stream, pop or both", "stream,pop")
    .option("--no-redelivery", "skip the redelivery latency samples")
    .option("--profile-dir <dir>", "write the servers' CPU profiles (node --cpu-prof) here", "")
    .parse(argv, { from: "user" })
    .opts<{
      records: string;
      repeats: string;
      workers: string;
      rabbitmq: boolean;
      rabbitMessages: string;
      rabbitReps: string;
      sizes: string;
      modes: string;
      redelivery: boolean;
      profileDir: string;
    }>();
  const modes = o.modes.split(",");
  for (const m of modes) if (m !== "stream" && m !== "pop") throw new Error(`--modes takes stream and pop, got ${m}`);
  return {
    records: Number(o.records),
    repeats: Number(o.repeats),
    workers: o.workers.split(",").map(Number),
    rabbitmq: o.rabbitmq,
    rabbitMessages: Number(o.rabbitMessages),
    rabbitReps: Number(o.rabbitReps),
    sizes: o.sizes.split(",").map(Number),
    modes: modes as ("stream" | "pop")[],
    redelivery: o.redelivery,
    profileDir: o.profileDir,
  };
}

let seq = 0;

async function filledTopic(client: RaftlineClient, records: number, bytes: number): Promise<string> {
  const topic = `work-${seq++}`;
  await client.admin().createTopic({ name: topic, partitions });
  const producer = client.producer();
  const value = Buffer.alloc(bytes, 120);
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < records; i += sendRecords) {
    const n = Math.min(sendRecords, records - i);
    sends.push(producer.send({ topic, partition: (i / sendRecords) % partitions, records: Array.from({ length: n }, () => ({ value })) }));
    if (sends.length >= 16) await Promise.all(sends.splice(0));
  }
  await Promise.all(sends);
  await producer.close();
  return topic;
}

interface ThroughputRow {
  mode: "stream" | "pop";
  workers: number;
  recordBytes: number;
  records: number;
  seconds: number;
  acceptedPerSecond: number;
}

async function throughput(client: RaftlineClient, mode: "stream" | "pop", workers: number, recordBytes: number, records: number): Promise<ThroughputRow> {
  const topic = await filledTopic(client, records, recordBytes);
  const group = `q-${topic}`;
  await client.queue({ group, topic }).ensure();
  let accepted = 0;
  let stopped = false;
  const accept = (d: QueueDelivery): void => {
    d.ack().then(() => accepted++, () => undefined);
  };
  const started = performance.now();
  const queues = Array.from({ length: workers }, () => client.queue({ group, topic, prefetch: streamPrefetch }));
  const loops = queues.map(async (q) => {
    if (mode === "stream") {
      for await (const d of q) accept(d);
      return;
    }
    while (!stopped) for (const d of await q.pop({ maxRecords: 100, timeoutMs: 1000 })) accept(d);
  });
  await waitFor(() => accepted >= records, deadlineMs, `${records} records accepted`, 5);
  const seconds = (performance.now() - started) / 1000;
  stopped = true;
  await Promise.all(queues.map((q) => q.close()));
  await Promise.allSettled(loops);
  return { mode, workers, recordBytes, records, seconds, acceptedPerSecond: records / seconds };
}

interface RedeliveryRow {
  after: "lock expiry" | "release";
  samplesMs: number[];
  medianMs: number;
}

/** One record held by one consumer and abandoned (or released); another waits in Pop for it. */
async function redelivery(client: RaftlineClient, after: RedeliveryRow["after"], repeats: number): Promise<RedeliveryRow> {
  const samplesMs: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const topic = await filledTopic(client, 1, 100);
    const options = { group: `r-${topic}`, topic, config: { lockTimeoutMs: 1000 } };
    const holder = client.queue(options);
    const [held] = await holder.pop({ timeoutMs: 10_000 });
    const waiter = client.queue(options);
    const again = waiter.pop({ timeoutMs: 10_000 });
    // Once the waiting Pop is parked on the leader, nothing else is available: the record is the one.
    let fromMs = held.lockExpiresAtMs;
    if (after === "release") {
      fromMs = Date.now();
      await held.release();
    }
    const [got] = await again;
    samplesMs.push(Date.now() - fromMs);
    await got.ack();
    await Promise.all([holder.close(), waiter.close()]);
  }
  return { after, samplesMs, medianMs: median(samplesMs) };
}

function load(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(", ");
}

export async function runQueueBench(argv: string[]): Promise<void> {
  const o = parse(argv);
  const loadBefore = load();
  console.log(`load average before: ${loadBefore}`);
  const cluster = await BenchCluster.start(o.profileDir ? { nodeFlags: ["--cpu-prof", `--cpu-prof-dir=${o.profileDir}`] } : {});
  const rows: ThroughputRow[] = [];
  const latencies: RedeliveryRow[] = [];
  try {
    await cluster.waitForLeader(deadlineMs);
    const client = new RaftlineClient({ brokers: cluster.nodes.map((n) => n.clientAddress), clientId: "bench-queue" });
    for (const recordBytes of o.sizes) {
      for (const mode of o.modes) {
        for (const workers of o.workers) {
          const row = await throughput(client, mode, workers, recordBytes, o.records);
          console.log(`  ${mode} ${workers} workers ${recordBytes} B: ${Math.round(row.acceptedPerSecond)} accepted/s`);
          rows.push(row);
        }
      }
    }
    if (o.redelivery) for (const after of ["lock expiry", "release"] as const) latencies.push(await redelivery(client, after, o.repeats));
    await client.close();
    // A profile is written only at a clean exit.
    if (o.profileDir) await cluster.stopGracefully(deadlineMs);
  } finally {
    await cluster.cleanup();
  }
  const loadMid = load();
  const rabbit: RabbitResult = o.rabbitmq
    ? await runRabbitAnchor({ sizesBytes: o.sizes, messages: o.rabbitMessages, reps: o.rabbitReps }, defaultRabbitAnchorDir())
    : { ran: false, why: "--no-rabbitmq" };
  const loadAfter = load();
  const rabbitConsume = new Map<number, number>();
  if (rabbit.ran) for (const f of rabbit.figures) if (f.consumePerSec.length > 0) rabbitConsume.set(f.sizeBytes, median(f.consumePerSec));

  printTable(
    `\nAccepted records/s, ${o.records} records on ${partitions} partitions (load average ${loadBefore} before, ${loadMid} after)`,
    ["mode", "workers", "record", "accepted/s", "RabbitMQ consume/s", "ratio"],
    rows.map((r) => {
      const ref = rabbitConsume.get(r.recordBytes);
      return [r.mode, r.workers, `${r.recordBytes} B`, Math.round(r.acceptedPerSecond), ref ? Math.round(ref) : "-", ref ? `${(r.acceptedPerSecond / ref).toFixed(2)}x` : "-"];
    }),
  );
  printTable(
    `\nRedelivery latency (lock timeout 1000 ms; ${o.repeats} samples)`,
    ["after", "median ms", "samples ms"],
    latencies.map((l) => [l.after, l.medianMs, l.samplesMs.map((s) => Math.round(s)).join(" ")]),
  );
  if (rabbit.ran) {
    printTable(
      `\nRabbitMQ ${rabbit.version} quorum queues, 3 local nodes, same run (load average ${loadAfter} after): ${o.rabbitMessages} messages, median of ${o.rabbitReps}`,
      ["record", "publish/s (confirms, window 256)", "consume/s (manual acks, prefetch 1000)"],
      rabbit.figures.map((f) => [`${f.sizeBytes} B`, f.publishPerSec.length ? Math.round(median(f.publishPerSec)) : "-", f.consumePerSec.length ? Math.round(median(f.consumePerSec)) : "-"]),
    );
  } else {
    console.log(`\nRabbitMQ reference not measured: ${rabbit.why}`);
  }
  const path = writeResults("queue", { machine: machineFacts(), options: o, load: { before: loadBefore, mid: loadMid, after: loadAfter }, throughput: rows, redelivery: latencies, rabbitmq: rabbit });
  console.log(`\nresults: ${path}`);
}
