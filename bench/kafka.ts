// `npm run bench -- kafka`: what the Kafka protocol translation costs. On one local three-node cluster,
// the same records are produced and consumed through gRPC (the TypeScript SDK) and through the Kafka
// listener (kafkajs, acks=-1), in the same run, so the ratio shows the translation and the client.
// Table on stdout (with the machine load: figures are noisy on a shared machine), JSON in bench/results/.
import { Command } from "commander";
import { loadavg } from "node:os";
import { Kafka, logLevel } from "kafkajs";
import { RaftlineClient } from "../src/client";
import { freePorts } from "../test/support/ports";
import { waitFor } from "../test/support/wait";
import { BenchCluster } from "./broker-cluster";
import { machineFacts, printTable, writeResults } from "./report";

interface KafkaBenchOptions {
  records: number;
  recordBytes: number;
  batch: number;
  inFlight: number;
}

const partitions = 3;
const deadlineMs = 300_000;

function parse(argv: string[]): KafkaBenchOptions {
  const o = new Command("bench kafka")
    .option("--records <n>", "records produced and consumed per path", "50000")
    .option("--record-bytes <n>", "value size", "100")
    .option("--batch <n>", "records per send", "500")
    .option("--in-flight <n>", "sends in flight at once", "8")
    .parse(argv, { from: "user" })
    .opts<{ records: string; recordBytes: string; batch: string; inFlight: string }>();
  return { records: Number(o.records), recordBytes: Number(o.recordBytes), batch: Number(o.batch), inFlight: Number(o.inFlight) };
}

interface Row {
  path: string;
  produceRecordsPerSecond: number;
  consumeRecordsPerSecond: number;
}

/** Sends `records` in sends of `batch`, round robin over the partitions, `inFlight` at a time; returns seconds. */
async function timedSends(o: KafkaBenchOptions, send: (partition: number, count: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0, n = 0; i < o.records; i += o.batch, n++) {
    pending.push(send(n % partitions, Math.min(o.batch, o.records - i)));
    if (pending.length >= o.inFlight) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  return (performance.now() - started) / 1000;
}

async function grpcPath(client: RaftlineClient, o: KafkaBenchOptions): Promise<Row> {
  const topic = "bench-grpc";
  await client.admin().createTopic({ name: topic, partitions });
  const producer = client.producer();
  const value = Buffer.alloc(o.recordBytes, 120);
  const produceSeconds = await timedSends(o, (partition, count) => producer.send({ topic, partition, records: Array.from({ length: count }, () => ({ value })) }));
  await producer.close();
  const consumer = client.consumer();
  const started = performance.now();
  let read = 0;
  await Promise.all(
    Array.from({ length: partitions }, async (_, partition) => {
      let offset = 0;
      for (;;) {
        const { records } = await consumer.fetch({ topic, partition, offset, maxWaitMs: 100 });
        if (records.length === 0) return;
        read += records.length;
        offset = records[records.length - 1].offset + 1;
      }
    }),
  );
  const consumeSeconds = (performance.now() - started) / 1000;
  if (read !== o.records) throw new Error(`gRPC read ${read} of ${o.records} records`);
  return { path: "gRPC (SDK)", produceRecordsPerSecond: o.records / produceSeconds, consumeRecordsPerSecond: o.records / consumeSeconds };
}

async function kafkaPath(brokers: string[], o: KafkaBenchOptions): Promise<Row> {
  const topic = "bench-kafka";
  const kafka = new Kafka({ clientId: "bench", brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const value = Buffer.alloc(o.recordBytes, 120);
  const produceSeconds = await timedSends(o, (partition, count) => producer.send({ topic, acks: -1, messages: Array.from({ length: count }, () => ({ value, partition })) }));
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: "bench-kafka", maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let read = 0;
  let joinedMs = 0;
  // Timed from the group's join (JoinGroup and SyncGroup done): joining is not part of reading.
  consumer.on(consumer.events.GROUP_JOIN, () => (joinedMs = performance.now()));
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      read += batch.messages.length;
    },
  });
  await waitFor(() => read >= o.records, deadlineMs, "kafkajs to read every record", 5);
  const consumeSeconds = (performance.now() - joinedMs) / 1000;
  await consumer.disconnect();
  return { path: "Kafka (kafkajs)", produceRecordsPerSecond: o.records / produceSeconds, consumeRecordsPerSecond: o.records / consumeSeconds };
}

export async function runKafkaBench(argv: string[]): Promise<void> {
  const o = parse(argv);
  const ports = await freePorts(3);
  const brokers = ports.map((p) => `127.0.0.1:${p}`);
  const serveFlags = brokers.flatMap((b, i) => ["--kafka-member", `${i + 1}=${b}`]);
  const cluster = await BenchCluster.start({ serveFlags });
  try {
    await cluster.waitForLeader(30000);
    const client = new RaftlineClient({ brokers: cluster.nodes.map((n) => n.clientAddress) });
    const loadBefore = loadavg()[0];
    const grpc = await grpcPath(client, o);
    const kafka = await kafkaPath(brokers, o);
    await client.close();
    const load = { before: loadBefore, after: loadavg()[0] };
    const rows = [grpc, kafka];
    printTable(
      `produce (acks quorum / -1) and consume of ${o.records} records of ${o.recordBytes} B, ${o.batch} per send, ${o.inFlight} in flight; load ${load.before.toFixed(2)} → ${load.after.toFixed(2)}`,
      ["path", "produce rec/s", "consume rec/s", "produce vs gRPC", "consume vs gRPC"],
      rows.map((r) => [
        r.path,
        Math.round(r.produceRecordsPerSecond),
        Math.round(r.consumeRecordsPerSecond),
        (r.produceRecordsPerSecond / grpc.produceRecordsPerSecond).toFixed(2),
        (r.consumeRecordsPerSecond / grpc.consumeRecordsPerSecond).toFixed(2),
      ]),
    );
    console.log(`results: ${writeResults("kafka", { options: o, rows, load, machine: machineFacts() })}`);
  } finally {
    await cluster.cleanup();
  }
}
