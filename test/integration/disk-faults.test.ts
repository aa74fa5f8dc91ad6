// Disk faults on real nodes: a follower stopped, its LevelDB files damaged, and started again. Bytes
// flipped in its tables and log, a stored record batch whose checksum fails only when it is read, and a
// table file cut short: each time the node finds the damage, says so, serves nothing from it, moves its
// directory aside and is repaired from its peers (replaced as a learner, caught up by snapshot, promoted),
// while a producer writes on; at the end every acknowledged record is on every node, dense and in order.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { openDatabase } from "../../src/storage/db";
import { entryKey } from "../../src/storage/keys";
import { entryDataStart } from "../../src/storage/raft-codec";
import { startCluster } from "../support/cluster";
import { flipBytesInside, truncateLargestTable } from "../support/disk-damage";
import { expectError, rawStubs, unaryCall } from "../support/raw-stubs";
import { SteadyProducer, asideDirs, damageReports, readAll, recordMarker, waitRepaired } from "../support/repair-checks";
import { waitFor } from "../support/wait";

const topic = "disk";

test("a follower whose LevelDB files are damaged while it is down finds it, serves nothing from it, and is repaired from its peers; nothing acknowledged is lost", async () => {
  const cluster = await startCluster({ extraArgs: ["--db-write-buffer-bytes", String(1024 * 1024)] });
  const client = cluster.client();
  await client.admin().createTopic({ name: topic, partitions: 1 });
  const producer = new SteadyProducer(client, topic);
  await producer.progress(300);
  const leader = await cluster.waitForLeader(15000);
  const follower = cluster.nodes.map((n) => n.id).find((id) => id !== leader) ?? 0;
  const node = cluster.node(follower);

  // 1. Bytes flipped inside stored records (raft entries and batches, in tables and the log).
  await cluster.stop(follower);
  const flipped = await flipBytesInside(node.dataDir, Buffer.from(recordMarker));
  assert.ok(flipped > 0, "the records are in the follower's files");
  await cluster.restart(follower, { deadlineMs: 30000 });
  await waitFor(() => damageReports(cluster, follower) >= 1, 10000, "the follower to report the damage");
  assert.equal(asideDirs(cluster, follower).length, 1, "the damaged directory is kept aside");
  await waitRepaired(cluster, follower, topic, producer);

  // 2. A stored batch whose checksum fails, found only when a read reaches it.
  await producer.progress(50);
  await cluster.stop(follower);
  const db = await openDatabase(node.dataDir);
  // The first batch's index entry says which raft entry holds it: compacted here (the repair above
  // installed a snapshot past it), so only a read of the batch checks it.
  const [, index] = (await db.iterator({ gte: Buffer.from([0x12]), lt: Buffer.from([0x13]), limit: 1 }).all())[0];
  const holder = entryKey(Number(index.readBigUInt64BE(20)));
  const entry = await db.get(holder);
  assert.ok(entry, "the raft entry holding the first batch is stored");
  entry[entryDataStart + index.readUInt32BE(28) + index.readUInt32BE(16) - 5] ^= 0x01;
  await db.put(holder, entry, { sync: true });
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
  await waitRepaired(cluster, follower, topic, producer);
  assert.equal(asideDirs(cluster, follower).length, 2);

  // 3. A table file (or the manifest) cut short.
  await producer.progress(300);
  await cluster.stop(follower);
  await truncateLargestTable(node.dataDir);
  await cluster.restart(follower, { deadlineMs: 30000 });
  await waitRepaired(cluster, follower, topic, producer);
  assert.ok(damageReports(cluster, follower) >= 3, "the cut file is reported");

  const acked = await producer.stop();
  for (const n of cluster.nodes) {
    const records = await readAll(n.clientAddress, topic);
    assert.deepEqual(records.slice(0, acked.length), acked, `node ${n.id} holds every acknowledged record in order`);
  }
});
