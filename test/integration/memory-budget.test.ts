// A node started with a small memory budget (a small V8 heap and small server bounds) survives each load
// that used to grow a node's memory without bound, and loses nothing it acknowledged: sustained full-rate
// produce, a Fetch asking for 2^31-1 bytes from every node, and dozens of never-reading subscribers per
// node while producers run. RSS and elections are reported, not asserted (timing on a shared machine is
// not a test): the bench measures them (npm run bench -- memory).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { Cluster, startCluster } from "../support/cluster";
import { RawStubs, rawStubs, unaryCall } from "../support/raw-stubs";
import { RssSampler } from "../support/rss-sampler";
import { StalledSubscribers } from "../support/stalled-subscriber";
import { produceFor } from "../support/sustained-produce";
import type { FetchResponse__Output } from "../../src/generated/raftline/v1/FetchResponse";
import type { DescribeClusterResponse__Output } from "../../src/generated/raftline/v1/DescribeClusterResponse";
import type { DescribeTopicResponse__Output } from "../../src/generated/raftline/v1/DescribeTopicResponse";

const mib = 1024 * 1024;
const fetchCeilingBytes = 1 * mib;
const load = { topic: "budget", recordBytes: 1024, batchRecords: 128, windowRequests: 4, seconds: 6 };
const stalledPerNode = 40;

let cluster: Cluster;
let leader: number;
let sampler: RssSampler;
let acked = 0;
const stubs = new Map<number, RawStubs>();
const on = (id: number): RawStubs => {
  let s = stubs.get(id);
  if (!s) {
    s = rawStubs(cluster.node(id).clientAddress, { "grpc.max_receive_message_length": 64 * mib });
    stubs.set(id, s);
  }
  return s;
};

async function termOf(id: number): Promise<number> {
  const a = on(id).admin;
  const res = await unaryCall<DescribeClusterResponse__Output>((o, cb) => a.DescribeCluster({}, new grpc.Metadata(), o, cb));
  return Math.max(...res.nodes.map((n) => Number(n.term)));
}

function assertAllAlive(): void {
  for (const node of cluster.nodes) assert.ok(node.running, `node ${node.id} died:\n${node.logTail()}`);
}

before(async () => {
  cluster = await startCluster({
    cleanupAfter: false,
    env: { NODE_OPTIONS: "--max-old-space-size=96" },
    extraArgs: [
      ["--snapshot-bytes", 8 * mib],
      ["--db-write-buffer-bytes", 4 * mib],
      ["--max-uncommitted-bytes", 8 * mib],
      ["--max-fetch-bytes", fetchCeilingBytes],
      ["--subscribe-stream-bytes", 256 * 1024],
      ["--subscribe-node-bytes", 16 * mib],
    ].flat().map(String),
  });
  leader = await cluster.waitForLeader(15000);
  const a = on(leader).admin;
  await unaryCall((o, cb) => a.CreateTopic({ name: load.topic, partitions: 1 }, new grpc.Metadata(), o, cb));
  sampler = new RssSampler(() => cluster.nodes.flatMap((n) => (n.pid === undefined ? [] : [n.pid])), 250);
});

after(async () => {
  const rss = sampler.stop();
  for (const [pid, s] of rss) console.log(`# pid ${pid}: RSS start ${s.startMiB.toFixed(0)} MiB, max ${s.maxMiB.toFixed(0)} MiB, end ${s.endMiB.toFixed(0)} MiB`);
  for (const s of stubs.values()) s.close();
  await cluster.cleanup();
});

describe("a node with a small memory budget", () => {
  test("survives sustained full-rate produce", async () => {
    const term0 = await termOf(leader);
    const result = await produceFor(on(leader).producer, load);
    acked += result.recordsAcked;
    assert.ok(result.recordsAcked > 0);
    assert.equal(result.failedRequests, 0, result.firstError);
    assertAllAlive();
    console.log(`# elections during the load: ${(await termOf(leader)) - term0}`);
  });

  test("answers a Fetch for 2^31-1 bytes from every node with at most its ceiling", async () => {
    for (const node of cluster.nodes) {
      const c = on(node.id).consumer;
      const res = await unaryCall<FetchResponse__Output>((o, cb) => c.Fetch({ topic: load.topic, partition: 0, offset: 0, maxBytes: 2 ** 31 - 1 }, new grpc.Metadata(), o, cb));
      const bytes = res.records.reduce((n, r) => n + r.value.length, 0);
      assert.ok(res.records.length > 0 && bytes <= fetchCeilingBytes, `node ${node.id} answered ${bytes} bytes`);
    }
    assertAllAlive();
  });

  test("survives never-reading subscribers on every node while producers run", async () => {
    const term0 = await termOf(leader);
    const stalled = cluster.nodes.map((n) => new StalledSubscribers(n.clientAddress));
    try {
      for (const s of stalled) for (let k = 0; k < stalledPerNode; k++) s.open({ topic: load.topic, partition: 0, position: "START_POSITION_EARLIEST" });
      const result = await produceFor(on(leader).producer, load);
      acked += result.recordsAcked;
      assert.equal(result.failedRequests, 0, result.firstError);
    } finally {
      for (const s of stalled) s.close();
    }
    assertAllAlive();
    console.log(`# elections during the load: ${(await termOf(leader)) - term0}`);
  });

  test("every acknowledged record is on every node", async () => {
    for (const node of cluster.nodes) {
      const a = on(node.id).admin;
      // DescribeTopic is a linearizable read: a follower first catches up to the leader's commit.
      const d = await unaryCall<DescribeTopicResponse__Output>((o, cb) => a.DescribeTopic({ name: load.topic }, new grpc.Metadata(), o, cb));
      assert.ok(Number(d.partitions[0].highWatermark) >= acked, `node ${node.id}: high watermark ${d.partitions[0].highWatermark}, acknowledged ${acked}`);
    }
  });
});
