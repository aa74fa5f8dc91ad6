// librdkafka-based clients against a three-node cluster through the Kafka listener: Python's
// confluent-kafka and kcat, from Debian packages. Each produces with idempotence and acks=all while the
// leader is SIGKILLed (every acknowledged record is then stored exactly once, in order), consumes in a
// group, commits, and a second run resumes from the commit.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { startKafkaCluster, type KafkaCluster } from "../support/kafka-cluster";
import { rawStubs, unaryCall } from "../support/raw-stubs";
import { repoRoot } from "../support/repo-root";
import { waitFor } from "../support/wait";
import type { FetchResponse__Output } from "../../src/generated/raftline/v1/FetchResponse";

const python = "/usr/bin/python3";
const kcat = "/usr/bin/kcat";
const script = join(repoRoot, "test", "python", "kafka_client.py");
const deadlineMs = 60000;

const pythonMissing = !existsSync(python) || !hasConfluentKafka();
const skipPython = pythonMissing ? "missing python3-confluent-kafka (Debian package)" : false;
const skipKcat = existsSync(kcat) ? false : "missing kcat (Debian package)";

function hasConfluentKafka(): boolean {
  return existsSync("/usr/lib/python3/dist-packages/confluent_kafka");
}

let kc: KafkaCluster;

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(command: string, args: string[]): Run {
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout?.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr?.on("data", (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => `${out}${err ? `\nstderr:\n${err.slice(-4000)}` : ""}`, exited };
}

async function finished(run: Run, what: string): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([run.exited, new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), deadlineMs)))]);
  clearTimeout(timer);
  if (code === "timeout") run.child.kill("SIGKILL");
  assert.equal(code, 0, `${what} failed (${code}):\n${run.output()}\n${kc.cluster.logTails()}`);
  return run.output();
}

async function storedValues(topic: string, partitions: number): Promise<string[][]> {
  const node = kc.cluster.nodes.find((n) => n.running);
  assert.ok(node);
  const s = rawStubs(node.clientAddress);
  try {
    const out: string[][] = [];
    for (let partition = 0; partition < partitions; partition++) {
      const values: string[] = [];
      for (;;) {
        // Right after a leader kill a read may find no leader yet: retried until an election ends.
        const res = await waitFor(
          () =>
            unaryCall<FetchResponse__Output>((o, cb) =>
              s.consumer.Fetch({ topic, partition, offset: values.length, maxBytes: 4 * 1024 * 1024 }, new grpc.Metadata(), o, cb),
            ),
          deadlineMs,
          `a read of ${topic}/${partition}`,
        );
        if (res.records.length === 0) break;
        values.push(...res.records.map((r) => Buffer.from(r.value).toString()));
      }
      out.push(values);
    }
    return out;
  } finally {
    s.close();
  }
}

async function createTopic(name: string, partitions: number): Promise<void> {
  const client = kc.cluster.client();
  await client.admin().createTopic({ name, partitions });
}

/** Kills the current leader; the restarted node rejoins so the next test has three nodes again. */
async function killLeaderThenRestart(whileRunning: () => Promise<void>): Promise<void> {
  const leader = await kc.cluster.waitForLeader(deadlineMs);
  await kc.cluster.kill(leader, "SIGKILL");
  await whileRunning();
  await kc.cluster.restart(leader);
}

describe("librdkafka clients through the Kafka listener", () => {
  before(async () => {
    kc = await startKafkaCluster({ cleanupAfter: false });
    await kc.cluster.waitForLeader(deadlineMs);
  });
  after(async () => {
    await kc?.cluster.cleanup();
  });

  test("confluent-kafka: idempotent acks=all across a leader SIGKILL, then a group commits and resumes", { skip: skipPython }, async () => {
    await createTopic("py-events", 2);
    const bootstrap = kc.brokers.join(",");
    const producer = start(python, [script, "produce", bootstrap, "py-events", "py", "300"]);
    await waitFor(() => /progress (1[0-9]{2}|[2-9][0-9]{2})/.test(producer.output()), deadlineMs, `python to have 100 acknowledged:\n${producer.output()}`);
    await killLeaderThenRestart(async () => void (await finished(producer, "python produce")));
    const stored = (await storedValues("py-events", 2)).flat();
    assert.equal(stored.length, 300, "every acknowledged record is stored once");
    assert.deepEqual(new Set(stored), new Set(Array.from({ length: 300 }, (_, i) => `py-${i}`)));

    const first = JSON.parse((await finished(start(python, [script, "consume", bootstrap, "py-events", "py-group", "300"]), "python consume")).trim()) as string[];
    assert.equal(new Set(first).size, 300);
    const more = start(python, [script, "produce", bootstrap, "py-events", "late", "20"]);
    await finished(more, "python produce more");
    const second = JSON.parse((await finished(start(python, [script, "consume", bootstrap, "py-events", "py-group", "20"]), "python resume")).trim()) as string[];
    assert.deepEqual(second.sort(), Array.from({ length: 20 }, (_, i) => `late-${i}`).sort(), "the second run starts at the commit");
  });

  test("confluent-kafka: batches compressed with gzip, snappy, lz4 and zstd are stored as sent", { skip: skipPython }, async () => {
    await createTopic("py-codecs", 1);
    const bootstrap = kc.brokers.join(",");
    const codecs = ["none", "gzip", "snappy", "lz4", "zstd"];
    for (const codec of codecs) await finished(start(python, [script, "produce", bootstrap, "py-codecs", codec, "40", codec]), `python produce with ${codec}`);
    const [stored] = await storedValues("py-codecs", 1);
    assert.deepEqual(stored, codecs.flatMap((codec) => Array.from({ length: 40 }, (_, i) => `${codec}-${i}`)));
  });

  test("confluent-kafka: DescribeConfigs of a topic and a broker, and of a missing topic", { skip: skipPython }, async () => {
    await createTopic("py-configs", 1);
    const out = await finished(start(python, [script, "configs", kc.brokers.join(","), "py-configs", "3"]), "python describe_configs");
    const described = JSON.parse(out.trim()) as { topic: Record<string, string>; broker: Record<string, string>; missing: string | null };
    assert.equal(described.topic["cleanup.policy"], "delete");
    assert.equal(described.topic["retention.ms"], "-1", "no age limit");
    assert.equal(described.topic["max.message.bytes"], String(1024 * 1024));
    assert.equal(described.broker["broker.id"], "3");
    assert.equal(described.missing, "UNKNOWN_TOPIC_OR_PART");
  });

  test("kcat: idempotent acks=all across a leader SIGKILL, then a group commits and resumes", { skip: skipKcat }, async () => {
    await createTopic("kcat-events", 1);
    const bootstrap = kc.brokers.join(",");
    const producerArgs = ["-b", bootstrap, "-P", "-t", "kcat-events", "-p", "0", "-X", "enable.idempotence=true", "-X", "acks=all", "-X", "linger.ms=5"];
    const producer = start(kcat, producerArgs);
    const line = (i: number): string => `kcat-${i}\n`;
    for (let i = 0; i < 150; i++) producer.child.stdin?.write(line(i));
    await waitFor(async () => (await storedValues("kcat-events", 1))[0].length >= 100, deadlineMs, "kcat's first records to be stored");
    await killLeaderThenRestart(async () => {
      for (let i = 150; i < 300; i++) producer.child.stdin?.write(line(i));
      producer.child.stdin?.end();
      await finished(producer, "kcat produce");
    });
    const [stored] = await storedValues("kcat-events", 1);
    assert.deepEqual(stored, Array.from({ length: 300 }, (_, i) => `kcat-${i}`), "every record once, in order");

    const consume = (count: number): Run =>
      start(kcat, ["-b", bootstrap, "-G", "kcat-group", "kcat-events", "-c", String(count), "-f", "%s\\n", "-X", "auto.offset.reset=earliest", "-q"]);
    const first = (await finished(consume(300), "kcat consume")).split("\n").filter((l) => l.startsWith("kcat-"));
    assert.equal(first.length, 300);
    const more = start(kcat, ["-b", bootstrap, "-P", "-t", "kcat-events", "-p", "0"]);
    more.child.stdin?.end(Array.from({ length: 10 }, (_, i) => `late-${i}\n`).join(""));
    await finished(more, "kcat produce more");
    const second = (await finished(consume(10), "kcat resume")).split("\n").filter((l) => l.length > 0 && !l.startsWith("%"));
    assert.deepEqual(second, Array.from({ length: 10 }, (_, i) => `late-${i}`), "the second run starts at the commit");
  });
});
