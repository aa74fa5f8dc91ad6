// Disk faults on real nodes: a follower stopped, its LevelDB files damaged, and started again. Bytes
// flipped in its tables and log, a stored record batch whose checksum fails only when it is read, and a
// table file cut short: each time the node finds the damage, says so, serves nothing from it, moves its
// directory aside and is repaired from its peers (replaced as a learner, caught up by snapshot, promoted),
// while a producer writes on; at the end every acknowledged record is on every node, dense and in order.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { basename, dirname } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { RaftlineClient } from "../../src/client";
import type { ConsumedRecord__Output } from "../../src/generated/raftline/v1/ConsumedRecord";
import type { DescribeClusterResponse__Output } from "../../src/generated/raftline/v1/DescribeClusterResponse";
import type { FetchResponse__Output } from "../../src/generated/raftline/v1/FetchResponse";
import { openDatabase } from "../../src/storage/db";
import { Cluster, startCluster } from "../support/cluster";
import { flipBytesInside, truncateLargestTable } from "../support/disk-damage";
import { expectError, rawStubs, unaryCall } from "../support/raw-stubs";
import { waitFor } from "../support/wait";

const topic = "disk";
const marker = "DISKMARK";
const repairDeadlineMs = 60000;
/** Large enough values that a 1 MiB memtable spills into table files within the test. */
const padding = "x".repeat(2000);

async function readAll(address: string): Promise<string[]> {
  const stubs = rawStubs(address);
  try {
    const out: ConsumedRecord__Output[] = [];
    for (;;) {
      const res = await unaryCall<FetchResponse__Output>((opts, cb) =>
        stubs.consumer.Fetch({ topic, partition: 0, offset: out.length }, new grpc.Metadata(), opts, cb),
      );
      out.push(...res.records);
      if (res.records.length === 0 || out.length >= Number(res.highWatermark)) return out.map((r) => r.value.toString().split("|")[0]);
    }
  } finally {
    stubs.close();
  }
}

/** Writes one record at a time until stopped; keeps what was acknowledged, in offset order. */
class SteadyProducer {
  readonly acked: string[] = [];
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(client: RaftlineClient) {
    const producer = client.producer({ lingerMs: 0 });
    this.done = (async () => {
      for (let i = 0; !this.stopped; i++) {
        const value = `${marker}-${i}`;
        const [meta] = await producer.send({ topic, partition: 0, records: [{ value: `${value}|${padding}` }] });
        assert.equal(meta.offset, this.acked.length, "offsets are dense and in order");
        this.acked.push(value);
      }
      await producer.close();
    })();
  }

  async progress(n: number): Promise<void> {
    const target = this.acked.length + n;
    await waitFor(() => this.acked.length >= target, 30000, `${n} more acknowledged writes`);
  }

  async stop(): Promise<string[]> {
    this.stopped = true;
    await this.done;
    return this.acked;
  }
}

function damageReports(cluster: Cluster, id: number): number {
  return readFileSync(cluster.node(id).logPath, "utf8").split("\n").filter((l) => l.includes("stored data is damaged")).length;
}

function asideDirs(cluster: Cluster, id: number): string[] {
  const dir = cluster.node(id).dataDir;
  return readdirSync(dirname(dir)).filter((n) => n.startsWith(`${basename(dir)}.damaged-`));
}

async function selfView(address: string, id: number): Promise<{ damage: string; voter: boolean } | undefined> {
  const stubs = rawStubs(address);
  try {
    const res = await unaryCall<DescribeClusterResponse__Output>((opts, cb) => stubs.admin.DescribeCluster({}, new grpc.Metadata(), opts, cb), 2000);
    const own = res.nodes.find((n) => n.id === id);
    return own && { damage: own.storageDamage, voter: own.voter };
  } finally {
    stubs.close();
  }
}

/** Waits until the node reports no damage, votes again, and serves every record acknowledged so far. */
async function waitRepaired(cluster: Cluster, id: number, producer: SteadyProducer): Promise<void> {
  const address = cluster.node(id).clientAddress;
  let last = "";
  await waitFor(
    async () => {
      const view = await selfView(address, id);
      last = JSON.stringify(view);
      if (view === undefined || view.damage !== "" || !view.voter) return false;
      const expected = producer.acked.slice();
      const records = await readAll(address);
      last = `${records.length} records read, ${expected.length} acknowledged`;
      return records.length >= expected.length && expected.every((v, i) => records[i] === v);
    },
    repairDeadlineMs,
    `node ${id} to be repaired and serve every acknowledged record`,
  ).catch((err: Error) => {
    throw new Error(`${err.message} (last: ${last})\n${cluster.logTails()}`);
  });
}

test("a follower whose LevelDB files are damaged while it is down finds it, serves nothing from it, and is repaired from its peers; nothing acknowledged is lost", async () => {
  const cluster = await startCluster({ extraArgs: ["--db-write-buffer-bytes", String(1024 * 1024)] });
  const client = cluster.client();
  await client.admin().createTopic({ name: topic, partitions: 1 });
  const producer = new SteadyProducer(client);
  await producer.progress(600);
  const leader = await cluster.waitForLeader(15000);
  const follower = cluster.nodes.map((n) => n.id).find((id) => id !== leader) ?? 0;
  const node = cluster.node(follower);

  // 1. Bytes flipped inside stored records (raft entries and batches, in tables and the log).
  await cluster.stop(follower);
  const flipped = await flipBytesInside(node.dataDir, Buffer.from(marker));
  assert.ok(flipped > 0, "the records are in the follower's files");
  await cluster.restart(follower, { deadlineMs: 30000 });
  await waitFor(() => damageReports(cluster, follower) >= 1, 10000, "the follower to report the damage");
  assert.equal(asideDirs(cluster, follower).length, 1, "the damaged directory is kept aside");
  await waitRepaired(cluster, follower, producer);

  // 2. A stored batch whose checksum fails, found only when a read reaches it.
  await producer.progress(100);
  await cluster.stop(follower);
  const db = await openDatabase(node.dataDir);
  const [batchKey, blob] = (await db.iterator({ gte: Buffer.from([0x13]), lt: Buffer.from([0x14]), limit: 1 }).all())[0];
  blob[blob.length - 5] ^= 0x01;
  await db.put(batchKey, blob, { sync: true });
  await db.close();
  await cluster.restart(follower, { deadlineMs: 30000 });
  const stubs = rawStubs(node.clientAddress);
  try {
    const err = await expectError(unaryCall((opts, cb) => stubs.consumer.Fetch({ topic, partition: 0, offset: 0 }, new grpc.Metadata(), opts, cb)));
    assert.equal(err.code, grpc.status.UNAVAILABLE, err.message);
    assert.equal(err.metadata.get("raftline-error-reason")[0], "ERROR_REASON_NODE_DAMAGED");
  } finally {
    stubs.close();
  }
  await waitFor(() => damageReports(cluster, follower) >= 2, 10000, "the follower to report the damaged batch");
  await waitRepaired(cluster, follower, producer);
  assert.equal(asideDirs(cluster, follower).length, 2);

  // 3. A table file (or the manifest) cut short.
  await producer.progress(600);
  await cluster.stop(follower);
  await truncateLargestTable(node.dataDir);
  await cluster.restart(follower, { deadlineMs: 30000 });
  await waitRepaired(cluster, follower, producer);
  assert.ok(damageReports(cluster, follower) >= 3, "the cut file is reported");

  const acked = await producer.stop();
  for (const n of cluster.nodes) {
    const records = await readAll(n.clientAddress);
    assert.deepEqual(records.slice(0, acked.length), acked, `node ${n.id} holds every acknowledged record in order`);
  }
});
