// sarama (Go; Debian's golang-github-shopify-sarama-dev, configured at the Kafka 2.1 protocol level)
// through the Kafka listener: an idempotent acks=all producer across a leader SIGKILL stores every
// record once and in order; a consumer group reads, commits, and a second run resumes from the commit.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { startKafkaCluster, type KafkaCluster } from "../support/kafka-cluster";
import { rawStubs, unaryCall } from "../support/raw-stubs";
import { repoRoot } from "../support/repo-root";
import { waitFor } from "../support/wait";
import type { FetchResponse__Output } from "../../src/generated/raftline/v1/FetchResponse";

const go = "/usr/bin/go";
const gopath = "/usr/share/gocode";
const saramaSource = join(gopath, "src", "github.com", "Shopify", "sarama");
const skip = existsSync(go) && existsSync(saramaSource) ? false : "missing golang-go or golang-github-shopify-sarama-dev (Debian packages)";
const deadlineMs = 90000;
const run = promisify(execFile);

let kc: KafkaCluster;
let buildDir: string;
let client: string;

async function storedValues(topic: string): Promise<string[]> {
  const node = kc.cluster.nodes.find((n) => n.running);
  assert.ok(node);
  const s = rawStubs(node.clientAddress);
  try {
    const values: string[] = [];
    for (;;) {
      const res = await waitFor(
        () => unaryCall<FetchResponse__Output>((o, cb) => s.consumer.Fetch({ topic, partition: 0, offset: values.length, maxBytes: 1 << 22 }, new grpc.Metadata(), o, cb)),
        deadlineMs,
        `a read of ${topic}`,
      );
      if (res.records.length === 0) return values;
      values.push(...res.records.map((r) => Buffer.from(r.value).toString()));
    }
  } finally {
    s.close();
  }
}

function sarama(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(client, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), deadlineMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`sarama ${args[0]} failed (${code}):\n${out}\n${err.slice(-4000)}\n${kc.cluster.logTails()}`));
    });
  });
}

describe("sarama through the Kafka listener", { skip }, () => {
  before(async () => {
    buildDir = mkdtempSync(join(tmpdir(), "raftline-sarama-"));
    client = join(buildDir, "sarama_client");
    await run(go, ["build", "-o", client, join(repoRoot, "test", "go", "sarama_client.go")], {
      env: { ...process.env, GO111MODULE: "off", GOPATH: gopath, GOCACHE: join(buildDir, "cache") },
      timeout: 600000,
    });
    kc = await startKafkaCluster({ cleanupAfter: false });
    await kc.cluster.waitForLeader(deadlineMs);
  });
  after(async () => {
    await kc?.cluster.cleanup();
    if (buildDir) rmSync(buildDir, { recursive: true, force: true });
  });

  test("an idempotent acks=all producer across a leader SIGKILL, then a group that commits and resumes", async () => {
    await kc.cluster.client().admin().createTopic({ name: "sarama-events", partitions: 1 });
    const brokers = kc.brokers.join(",");
    const producing = sarama(["produce", brokers, "sarama-events", "go", "200"]);
    await waitFor(async () => (await storedValues("sarama-events")).length >= 50, deadlineMs, "sarama's first records to be stored");
    const leader = await kc.cluster.waitForLeader(deadlineMs);
    await kc.cluster.kill(leader, "SIGKILL");
    await producing;
    await kc.cluster.restart(leader);
    assert.deepEqual(await storedValues("sarama-events"), Array.from({ length: 200 }, (_, i) => `go-${i}`), "every record once, in order");

    const first = JSON.parse((await sarama(["consume", brokers, "sarama-events", "sarama-group", "200"])).trim()) as string[];
    assert.equal(new Set(first).size, 200);
    await sarama(["produce", brokers, "sarama-events", "late", "10"]);
    const second = JSON.parse((await sarama(["consume", brokers, "sarama-events", "sarama-group", "10"])).trim()) as string[];
    assert.deepEqual(second, Array.from({ length: 10 }, (_, i) => `late-${i}`), "the second run starts at the commit");
  });
});
