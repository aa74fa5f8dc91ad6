// Discovery, health and metrics on a live three-node cluster: reflection lists the services and is
// enough to call one; health is SERVING with a leader and NOT_SERVING without; /metrics follows what the
// cluster does.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { Cluster, startCluster } from "../support/cluster";
import { checkHealth } from "../support/health-client";
import { parseMetrics, sampleValue, scrape } from "../support/metrics-text";
import { definitionOf, listServices } from "../support/reflection-client";
import { waitFor } from "../support/wait";

let cluster: Cluster;
let leaderId: number;

before(async () => {
  cluster = await startCluster({ extraArgs: ["--http-address", "127.0.0.1:0"], cleanupAfter: false });
  leaderId = await cluster.waitForLeader(20000);
});
after(() => cluster.cleanup());

function httpOf(id: number): string {
  const address = cluster.node(id).httpAddress;
  assert.ok(address, `node ${id} reported no HTTP address`);
  return address;
}

test("reflection lists the public and health services, and is enough to call one", async (t) => {
  const follower = cluster.nodes.find((n) => n.id !== leaderId);
  assert.ok(follower);
  const services = await listServices(follower.clientAddress);
  t.diagnostic(`services: ${services.join(", ")}`);
  for (const s of ["raftline.v1.Admin", "raftline.v1.Consumer", "raftline.v1.Producer", "grpc.health.v1.Health"]) {
    assert.ok(services.includes(s), `${s} missing from ${services.join(", ")}`);
  }
  // A client that knows nothing but the reflection answer calls Admin.DescribeCluster.
  const loaded = grpc.loadPackageDefinition(await definitionOf(follower.clientAddress, "raftline.v1.Admin"));
  const Admin = (loaded.raftline as grpc.GrpcObject).v1 as grpc.GrpcObject;
  const AdminClient = Admin.Admin as grpc.ServiceClientConstructor;
  const client = new AdminClient(follower.clientAddress, grpc.credentials.createInsecure());
  try {
    const res = await new Promise<{ leaderId: number; nodes: unknown[] }>((resolve, reject) =>
      client.DescribeCluster({}, (err: grpc.ServiceError | null, r: { leaderId: number; nodes: unknown[] }) => (err ? reject(err) : resolve(r))),
    );
    assert.equal(res.leaderId, leaderId);
    assert.equal(res.nodes.length, 3);
  } finally {
    client.close();
  }
});

test("/metrics follows produce traffic, raft state and partition offsets on every node", async () => {
  const client = cluster.client();
  await client.admin().createTopic({ name: "metered", partitions: 2 });
  const producer = client.producer();
  const records = Array.from({ length: 40 }, (_, i) => ({ value: `record-${i}` }));
  await producer.send({ topic: "metered", partition: 0, records: records.slice(0, 25) });
  await producer.send({ topic: "metered", partition: 1, records: records.slice(25) });
  await producer.flush();

  for (const node of cluster.nodes) {
    await waitFor(
      async () => {
        const samples = await scrape(httpOf(node.id));
        return (
          sampleValue(samples, "raftline_partition_high_watermark", { topic: "metered", partition: "0" }) === 25 &&
          sampleValue(samples, "raftline_partition_high_watermark", { topic: "metered", partition: "1" }) === 15
        );
      },
      10000,
      `node ${node.id}'s partition metrics to show the records`,
    );
  }
  const all = await Promise.all(cluster.nodes.map((n) => scrape(httpOf(n.id))));
  const recordsIn = all.reduce((sum, s) => sum + (sampleValue(s, "raftline_records_in_total") ?? 0), 0);
  assert.equal(recordsIn, 40, "each produced record is counted once, on the node the client called");
  const bytesIn = all.reduce((sum, s) => sum + (sampleValue(s, "raftline_bytes_in_total") ?? 0), 0);
  assert.equal(bytesIn, records.reduce((n, r) => n + r.value.length, 0));
  const consumer = client.consumer();
  await consumer.fetch({ topic: "metered", partition: 1, offset: 0 });
  const outOf = async (): Promise<number> =>
    (await Promise.all(cluster.nodes.map((n) => scrape(httpOf(n.id))))).reduce((sum, s) => sum + (sampleValue(s, "raftline_records_out_total", { rpc: "fetch" }) ?? 0), 0);
  assert.equal(await outOf(), 15, "a fetch of partition 1 sends its 15 records");
  const leader = all[cluster.nodes.findIndex((n) => n.id === leaderId)];
  assert.equal(sampleValue(leader, "raftline_raft_role", { role: "leader" }), 1);
  assert.equal(sampleValue(leader, "raftline_raft_leader_id"), leaderId);
  const created = all.reduce(
    (sum, s) => sum + (sampleValue(s, "raftline_rpc_requests_total", { service: "raftline.v1.Admin", method: "CreateTopic", code: "OK" }) ?? 0),
    0,
  );
  assert.ok(created >= 1, "the CreateTopic call is counted with its status");
  assert.ok(all.some((samples) => samples.some((s) => s.name === "raftline_rpc_duration_seconds_bucket" && s.labels.method === "CreateTopic")));
  assert.ok(leader.some((s) => s.name.startsWith("raftline_raft_follower_match_lag_entries")));
  // A subscriber that closes its stream ends the call without a status: counted as CANCELLED.
  const subscription = client.consumer().subscribe({ topic: "metered", partition: 0, from: "earliest" });
  for await (const record of subscription) if (record.offset === 24) break;
  const cancelled = (samples: ReturnType<typeof parseMetrics>): number =>
    sampleValue(samples, "raftline_rpc_requests_total", { service: "raftline.v1.Consumer", method: "Subscribe", code: "CANCELLED" }) ?? 0;
  await waitFor(
    async () => (await Promise.all(cluster.nodes.map((n) => scrape(httpOf(n.id))))).some((samples) => cancelled(samples) === 1),
    10000,
    "the closed Subscribe to be counted as CANCELLED",
  );
  for (const samples of all) {
    assert.ok((sampleValue(samples, "raftline_leveldb_size_bytes") ?? 0) > 0);
    assert.ok(samples.some((s) => s.name === "nodejs_eventloop_lag_seconds"));
  }
});

test("/metrics shows each group's lag as what it has left unread, its committed offsets and members, on every node", async () => {
  const client = cluster.client();
  await client.admin().createTopic({ name: "lagging", partitions: 3 });
  const producer = client.producer();
  await producer.send({ topic: "lagging", partition: 0, records: Array.from({ length: 30 }, (_, i) => ({ value: `a${i}` })) });
  await producer.send({ topic: "lagging", partition: 1, records: Array.from({ length: 20 }, (_, i) => ({ value: `b${i}` })) });
  await producer.flush();
  const members = async (id: number): Promise<number | undefined> => sampleValue(await scrape(httpOf(id)), "raftline_group_members", { group: "lag-readers" });

  // A member reads 12 records, shows in the members gauge, and commits them as it leaves.
  const consumer = client.consumer({ groupId: "lag-readers", autoCommit: false });
  consumer.subscribe({ topics: ["lagging"] });
  let read = 0;
  for await (const record of consumer) {
    assert.equal(record.topic, "lagging");
    if (++read === 12) {
      await waitFor(async () => (await members(leaderId)) === 1, 10000, "the members gauge to count the member");
      break;
    }
  }
  const committed = await client.groups().fetchOffsets("lag-readers", "lagging");
  assert.equal(committed.reduce((n, o) => n + o.offset, 0), 12, "the 12 records read are committed");

  // What remains unread, counted by reading it with a plain consumer from the committed offsets.
  const reader = client.consumer();
  const unread = new Map<number, number>();
  for (const partition of [0, 1, 2]) {
    const from = committed.find((o) => o.partition === partition)?.offset ?? 0;
    const r = await reader.fetch({ topic: "lagging", partition, offset: from });
    unread.set(partition, r.records.length);
  }
  assert.equal([...unread.values()].reduce((a, b) => a + b, 0), 38);

  for (const node of cluster.nodes) {
    await waitFor(
      async () => {
        const samples = await scrape(httpOf(node.id));
        return [0, 1, 2].every(
          (p) =>
            sampleValue(samples, "raftline_group_lag_records", { group: "lag-readers", topic: "lagging", partition: String(p) }) === unread.get(p) &&
            sampleValue(samples, "raftline_group_committed_offset", { group: "lag-readers", topic: "lagging", partition: String(p) }) ===
              committed.find((o) => o.partition === p)?.offset,
        ) && sampleValue(samples, "raftline_group_members", { group: "lag-readers" }) === 0;
      },
      10000,
      `node ${node.id}'s group metrics to show the unread records and no members`,
    );
  }
  const samples = await scrape(httpOf(leaderId));
  assert.ok((sampleValue(samples, "raftline_group_generation", { group: "lag-readers" }) ?? 0) >= 1);

  // A deleted group leaves the metrics.
  await client.groups().deleteGroup("lag-readers");
  await waitFor(async () => (await members(leaderId)) === undefined, 10000, "the deleted group to leave the metrics");
});

test("/metrics shows each work queue's records by state, its depth and totals, on every node", async () => {
  const client = cluster.client();
  await client.admin().createTopic({ name: "work", partitions: 1 });
  const producer = client.producer();
  await producer.send({ topic: "work", partition: 0, records: Array.from({ length: 10 }, (_, i) => ({ value: `w${i}` })) });
  await producer.flush();
  const queue = client.queue({ group: "workers", topic: "work", config: { lockTimeoutMs: 600_000 } });
  const taken = await queue.pop({ maxRecords: 3, timeoutMs: 5000 });
  assert.equal(taken.length, 3);
  await taken[0].ack();

  const labels = { group: "workers", topic: "work", partition: "0" };
  for (const node of cluster.nodes) {
    await waitFor(
      async () => {
        const samples = await scrape(httpOf(node.id));
        return (
          sampleValue(samples, "raftline_share_group_records", { ...labels, state: "acquired" }) === 2 &&
          sampleValue(samples, "raftline_share_group_records", { ...labels, state: "available" }) === 0 &&
          sampleValue(samples, "raftline_share_group_unsettled_records", labels) === 9 &&
          sampleValue(samples, "raftline_share_group_start_offset", labels) === 1 &&
          sampleValue(samples, "raftline_share_group_accepted_total", { group: "workers" }) === 1 &&
          sampleValue(samples, "raftline_share_group_dead_lettered_total", { group: "workers" }) === 0
        );
      },
      10000,
      `node ${node.id}'s work-queue metrics to show 2 acquired, 9 unsettled and 1 accepted`,
    );
  }

  // A deleted work queue leaves the metrics.
  await client.shares().deleteShareGroup("workers", { force: true });
  await waitFor(
    async () => sampleValue(await scrape(httpOf(leaderId)), "raftline_share_group_accepted_total", { group: "workers" }) === undefined,
    10000,
    "the deleted work queue to leave the metrics",
  );
  await queue.close();
});

test("the metrics parser rejects a malformed line (so the check above can fail)", () => {
  assert.throws(() => parseMetrics("raftline_ok 1\nraftline broken line\n"), /not a Prometheus sample line/);
});

test("health is SERVING with a leader and NOT_SERVING on a node left without one", async () => {
  for (const node of cluster.nodes) {
    for (const service of ["", "raftline.v1.Producer", "raftline.v1.Consumer", "raftline.v1.Admin"]) {
      await waitFor(async () => (await checkHealth(node.clientAddress, service)) === "SERVING", 10000, `node ${node.id} "${service}" SERVING`);
    }
  }
  const survivor = cluster.nodes.find((n) => n.id !== leaderId);
  assert.ok(survivor);
  for (const n of cluster.nodes) if (n.id !== survivor.id) await cluster.kill(n.id);
  await waitFor(async () => (await checkHealth(survivor.clientAddress, "")) === "NOT_SERVING", 15000, "the lone node to report NOT_SERVING");
  assert.equal(await checkHealth(survivor.clientAddress, "raftline.v1.Producer"), "NOT_SERVING");
});
