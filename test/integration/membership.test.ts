// Membership with real processes: a cluster grows 3 → 5 and shrinks back (its leader removed) while a
// producer writes, losing nothing; bad membership requests are refused with their documented status; a
// voter restarted on a wiped disk under its old id is refused while the cluster keeps serving, and
// ReplaceNode lets its new incarnation back in; a node added while a member is down reaches it later;
// removed nodes exit on their own.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { RaftlineClient } from "../../src/client";
import { startCluster } from "../support/cluster";
import { changeDeadlineMs, electionDeadlineMs, expectRefusal, logOf, membershipOf, readAll, waitVoters, whenIdle } from "../support/membership";
import { waitFor } from "../support/wait";

/** Writes one record at a time until stopped; keeps what was acknowledged, in offset order. */
class SteadyProducer {
  readonly acked: string[] = [];
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(client: RaftlineClient, topic: string) {
    const producer = client.producer({ lingerMs: 0 });
    this.done = (async () => {
      for (let i = 0; !this.stopped; i++) {
        const value = `v${i}`;
        const [meta] = await producer.send({ topic, partition: 0, records: [{ value }] });
        assert.equal(meta.offset, this.acked.length, "offsets are dense and in order");
        this.acked.push(value);
      }
      await producer.close();
    })();
  }

  /** Resolves once at least `n` more records were acknowledged since the call. */
  async progress(n: number): Promise<void> {
    const target = this.acked.length + n;
    await waitFor(() => this.acked.length >= target, 20000, `${n} more acknowledged writes`);
  }

  async stop(): Promise<string[]> {
    this.stopped = true;
    await this.done;
    return this.acked;
  }
}

test("grow 3 → 5 and shrink back to 3, the leader removed, under writes: nothing lost; bad requests refused", async () => {
  const cluster = await startCluster();
  await cluster.waitForLeader(electionDeadlineMs, { among: [1, 2, 3] });
  // One address only: the client learns the others (and the nodes added later) from DescribeCluster.
  const client = new RaftlineClient({ brokers: [cluster.node(1).clientAddress], clientId: "membership" });
  try {
    const admin = client.admin();
    await admin.createTopic({ name: "m", partitions: 1 });
    const writer = new SteadyProducer(client, "m");
    await writer.progress(20);

    const n4 = await cluster.startJoiner(4, cluster.node(2).clientAddress);
    const n5 = await cluster.startJoiner(5, cluster.node(3).clientAddress);
    assert.deepEqual(await admin.addNode({ nodeId: 4, clientAddress: n4.clientAddress, peerAddress: n4.peerAddress }), { voters: [1, 2, 3], learners: [4] });
    await waitVoters(client, [1, 2, 3, 4]);
    await writer.progress(20);
    await admin.addNode({ nodeId: 5, clientAddress: n5.clientAddress, peerAddress: n5.peerAddress });
    await waitVoters(client, [1, 2, 3, 4, 5]);
    await writer.progress(20);
    const described = await admin.describeCluster();
    assert.match(described.clusterId, /^[0-9a-f]{16}$/);
    assert.deepEqual(
      described.nodes.map((n) => [n.id, n.address, n.peerAddress]),
      cluster.nodes.map((n) => [n.id, n.clientAddress, n.peerAddress]),
    );

    // Refusals change nothing.
    await expectRefusal(admin.addNode({ nodeId: 4, clientAddress: n4.clientAddress, peerAddress: n4.peerAddress }), grpc.status.ALREADY_EXISTS, "ERROR_REASON_NODE_EXISTS");
    await expectRefusal(
      admin.addNode({ nodeId: 6, clientAddress: cluster.node(1).clientAddress, peerAddress: "127.0.0.1:1" }),
      grpc.status.ALREADY_EXISTS,
      "ERROR_REASON_NODE_EXISTS",
    );
    await expectRefusal(admin.addNode({ nodeId: 0, clientAddress: "127.0.0.1:1", peerAddress: "127.0.0.1:2" }), grpc.status.INVALID_ARGUMENT, "ERROR_REASON_INVALID_FIELD");
    await expectRefusal(admin.addNode({ nodeId: 6, clientAddress: "nowhere", peerAddress: "127.0.0.1:2" }), grpc.status.INVALID_ARGUMENT, "ERROR_REASON_INVALID_FIELD");
    await expectRefusal(admin.removeNode(9), grpc.status.NOT_FOUND, "ERROR_REASON_UNKNOWN_NODE");
    await expectRefusal(admin.replaceNode(9), grpc.status.NOT_FOUND, "ERROR_REASON_UNKNOWN_NODE");
    await expectRefusal(admin.promoteLearner(1), grpc.status.NOT_FOUND, "ERROR_REASON_UNKNOWN_NODE");
    assert.deepEqual(await membershipOf(client), { voters: [1, 2, 3, 4, 5], learners: [] });

    // Shrink: the leader first (it hands over, then the new leader removes it), then one more.
    const leader = await cluster.waitForLeader(electionDeadlineMs, { among: [1, 2, 3, 4, 5] });
    const afterLeader = await whenIdle(() => admin.removeNode(leader));
    assert.ok(!afterLeader.voters.includes(leader), `node ${leader} removed`);
    await writer.progress(20);
    const rest = afterLeader.voters;
    const second = rest.find((id) => id !== 1) ?? rest[0];
    const three = await whenIdle(() => admin.removeNode(second));
    assert.equal(three.voters.length, 3);
    await writer.progress(20);
    const acked = await writer.stop();

    for (const id of three.voters) {
      await waitFor(async () => (await readAll(cluster.node(id).clientAddress, "m")).length >= acked.length, 20000, `node ${id} to hold every write`);
      assert.deepEqual(await readAll(cluster.node(id).clientAddress, "m"), acked, `node ${id} holds exactly the acknowledged writes, in order`);
    }
    assert.match(logOf(cluster, leader), /role changed/);
    // The removed nodes say so and exit on their own.
    for (const gone of [leader, second]) {
      await waitFor(() => !cluster.node(gone).running, changeDeadlineMs, `removed node ${gone} to exit`);
      assert.match(logOf(cluster, gone), /was removed from cluster [0-9a-f]+: stopping/);
    }
  } finally {
    await client.close({ flush: false }).catch(() => undefined);
  }
});

test("a voter restarted on a wiped disk under its old id is refused, the cluster keeps serving, ReplaceNode lets it back; a node added while another is down", async () => {
  const cluster = await startCluster({ extraArgs: ["--snapshot-entries", "20"] });
  const leader = await cluster.waitForLeader(electionDeadlineMs);
  const client = cluster.client();
  const admin = client.admin();
  await admin.createTopic({ name: "w", partitions: 1 });
  const producer = client.producer({ lingerMs: 0 });
  const acked: string[] = [];
  const write = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const value = `w${acked.length}`;
      await producer.send({ topic: "w", partition: 0, records: [{ value }] });
      acked.push(value);
    }
  };
  await write(50);

  const wiped = cluster.nodes.map((n) => n.id).find((id) => id !== leader) ?? 0;
  await cluster.restart(wiped, { wipe: true });
  await waitFor(() => /came back as [0-9a-f]+/.test(logOf(cluster, wiped)), 20000, "the wiped node to be refused by its peers");
  assert.match(logOf(cluster, wiped), /replace-node/, "the refusal says what to do");
  // Two of three still form a quorum: writes go on, and the wiped node got none of them.
  await write(30);
  assert.deepEqual(await readAll(cluster.node(wiped).clientAddress, "w").catch(() => []), []);

  const m = await whenIdle(() => admin.replaceNode(wiped));
  assert.ok(m.learners.includes(wiped) && !m.voters.includes(wiped), `node ${wiped} is a learner again: ${JSON.stringify(m)}`);
  await waitVoters(client, [1, 2, 3]);
  await write(30);
  await waitFor(async () => (await readAll(cluster.node(wiped).clientAddress, "w")).length >= acked.length, 20000, "the new incarnation to catch up");
  assert.deepEqual(await readAll(cluster.node(wiped).clientAddress, "w"), acked);
  assert.match(logOf(cluster, wiped), /installed snapshot/, "it caught up by snapshot");
  // Leading, the new incarnation reaches the peer that only ever knew the old one as a voter.
  await admin.transferLeadership(wiped);
  await write(10);
  for (const node of cluster.nodes) {
    await waitFor(async () => (await readAll(node.clientAddress, "w")).length >= acked.length, 20000, `node ${node.id} to follow the new leader`);
  }

  // A node added while a member is down: the down member learns the newcomer's address from its peers
  // when it comes back, and holds every write.
  const down = cluster.nodes.map((n) => n.id).find((id) => id !== wiped) ?? 0;
  await cluster.stop(down);
  const n4 = await cluster.startJoiner(4, cluster.node(wiped).clientAddress);
  await whenIdle(() => admin.addNode({ nodeId: 4, clientAddress: n4.clientAddress, peerAddress: n4.peerAddress }));
  await waitVoters(client, [1, 2, 3, 4]);
  await write(10);
  await cluster.restart(down);
  await waitFor(async () => (await readAll(cluster.node(down).clientAddress, "w")).length >= acked.length, 20000, `node ${down} to catch up`);
  assert.deepEqual(await readAll(cluster.node(down).clientAddress, "w"), acked);
  await waitFor(() => /learned a member's addresses/.test(logOf(cluster, down)), 20000, `node ${down} to learn node 4's addresses`);
  await producer.close();
});
