// DeleteShareGroup on a real three-node cluster: through a follower; refused while a record is locked or
// a Receive stream is open, and then nothing changes; with force the group goes at once, its stream and
// a waiting Pop end with UNKNOWN_SHARE_GROUP, its topics stay, and a group created again starts afresh.
// Streams and Pops of a group whose topic is deleted end the same way.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import type { QueueDelivery, RaftlineClient } from "../../src/client";
import { Cluster, startCluster } from "../support/cluster";
import { waitFor } from "../support/wait";
import { expectError as rawError, rawStubs, unaryCall } from "../support/raw-stubs";

const deadlineMs = 30000;
let cluster: Cluster;
let client: RaftlineClient;
let viaFollower: RaftlineClient;

before(async () => {
  cluster = await startCluster({ cleanupAfter: false });
  const leader = await cluster.waitForLeader(deadlineMs);
  client = cluster.client();
  viaFollower = cluster.client({ brokers: [cluster.node(leader === 1 ? 2 : 1).clientAddress] });
});

after(async () => {
  await cluster?.cleanup();
});

async function topicWith(name: string, count: number): Promise<void> {
  await client.admin().createTopic({ name, partitions: 1 });
  const producer = client.producer();
  await producer.send({ topic: name, records: Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
  await producer.close();
}

const reasonOf = (err: unknown): string => (err as { reason?: string }).reason ?? String(err);

describe("deleting work queues", () => {
  test("refused while a record is locked or a stream is open; forced, it goes at once and a new group starts afresh", async () => {
    await topicWith("del", 5);
    const popper = client.queue({ group: "q-del", topic: "del", config: { lockTimeoutMs: 60000 } });
    const [held] = await popper.pop({ timeoutMs: 5000 });
    assert.equal(held.offset, 0);
    const before = await client.shares().describeShareGroup("q-del");

    await assert.rejects(viaFollower.shares().deleteShareGroup("q-del"), (err) => reasonOf(err) === "ERROR_REASON_SHARE_GROUP_IN_USE");
    assert.deepEqual((await client.shares().describeShareGroup("q-del")).partitions, before.partitions, "a refusal changes nothing");
    await held.ack();

    // A consumer streaming with nothing held still counts as using the group.
    const streamer = client.queue({ group: "q-del", topic: "del", prefetch: 1 });
    const got: QueueDelivery[] = [];
    const streamEnd = (async () => {
      for await (const d of streamer) {
        got.push(d);
        await d.ack();
      }
    })().then(() => "ended without an error", reasonOf);
    await waitFor(
      async () => {
        const d = await client.shares().describeShareGroup("q-del");
        return Number(d.acceptedTotal) === 5 && d.consumers.length === 1;
      },
      deadlineMs,
      "the stream accepted the other four records",
    );
    await assert.rejects(
      viaFollower.shares().deleteShareGroup("q-del"),
      (err) => reasonOf(err) === "ERROR_REASON_SHARE_GROUP_IN_USE" && /Receive stream/.test((err as Error).message),
    );

    // A Pop waiting on the empty group.
    const waiter = client.queue({ group: "q-del", topic: "del" });
    await waiter.ensure();
    const popEnd = waiter.pop({ timeoutMs: 60000 }).then((got) => `answered ${got.length} records`, reasonOf);
    const deleted = await viaFollower.shares().deleteShareGroup("q-del", { force: true });
    assert.deepEqual(deleted, { topic: "del", abandonedLocks: 0 });
    assert.equal(await popEnd, "ERROR_REASON_UNKNOWN_SHARE_GROUP", "the waiting Pop ends");
    assert.equal(await streamEnd, "ERROR_REASON_UNKNOWN_SHARE_GROUP", "the stream ends");

    assert.ok(!(await client.shares().listShareGroups()).some((g) => g.groupId === "q-del"));
    const topics = (await client.admin().listTopics()).map((t) => t.name);
    assert.ok(topics.includes("del") && topics.includes("q-del.dlq"), "the topic and the dead-letter topic stay");
    const raw = rawStubs(cluster.brokers[0]);
    const pop = await rawError(unaryCall((o, cb) => raw.shares.Pop({ groupId: "q-del", timeoutMs: 0 }, o, cb)));
    assert.equal(`${status[pop.code]} ${String(pop.metadata.get("raftline-error-reason")[0])}`, "NOT_FOUND ERROR_REASON_UNKNOWN_SHARE_GROUP");
    raw.close();

    const again = client.queue({ group: "q-del", topic: "del" });
    assert.equal((await again.ensure()).created, true);
    const fresh = await again.pop({ maxRecords: 10, timeoutMs: 5000 });
    assert.deepEqual(
      fresh.map((d) => [d.offset, d.deliveryCount]),
      [0, 1, 2, 3, 4].map((o) => [o, 1]),
      "every record again, each for the first time",
    );
    const described = await client.shares().describeShareGroup("q-del");
    assert.equal(Number(described.acceptedTotal), 0);
    await Promise.all(fresh.map((d) => d.ack()));
    await Promise.all([popper.close(), streamer.close(), waiter.close(), again.close()]);
  });

  test("forced while records are locked: the locks are abandoned and answers to them are refused", async () => {
    await topicWith("del-force", 3);
    const q = client.queue({ group: "q-del-force", topic: "del-force", config: { lockTimeoutMs: 60000 } });
    const held = await q.pop({ maxRecords: 3, timeoutMs: 5000 });
    assert.equal(held.length, 3);
    assert.deepEqual(await client.shares().deleteShareGroup("q-del-force", { force: true }), { topic: "del-force", abandonedLocks: 3 });
    await assert.rejects(held[0].ack(), (err) => reasonOf(err) === "ERROR_REASON_UNKNOWN_SHARE_GROUP");
    await q.close();
  });

  test("bad inputs: unknown group NOT_FOUND, a bad id INVALID_ARGUMENT; a group whose topic was deleted can be deleted", async () => {
    const raw = rawStubs(cluster.brokers[1]);
    const del = async (groupId: string): Promise<string> => {
      const err = await rawError(unaryCall((o, cb) => raw.shares.DeleteShareGroup({ groupId, force: true }, o, cb)));
      return `${status[err.code]} ${String(err.metadata.get("raftline-error-reason")[0])}`;
    };
    assert.equal(await del("q-never"), "NOT_FOUND ERROR_REASON_UNKNOWN_SHARE_GROUP");
    assert.equal(await del("bad group!"), "INVALID_ARGUMENT ERROR_REASON_INVALID_GROUP_ID");
    assert.equal(await del(""), "INVALID_ARGUMENT ERROR_REASON_INVALID_GROUP_ID");
    raw.close();
    await topicWith("del-gone", 2);
    const q = client.queue({ group: "q-del-gone", topic: "del-gone", config: { lockTimeoutMs: 60000 } });
    await q.pop({ timeoutMs: 5000 });
    await client.admin().deleteTopic("del-gone");
    assert.deepEqual(await client.shares().deleteShareGroup("q-del-gone"), { topic: "del-gone", abandonedLocks: 0 });
    await q.close();
  });

  test("a stream and a waiting Pop on a group whose topic is deleted end with UNKNOWN_SHARE_GROUP; the cluster carries on", async () => {
    await topicWith("del-topic", 1);
    const streamer = client.queue({ group: "q-del-topic", topic: "del-topic", prefetch: 10 });
    const got: QueueDelivery[] = [];
    const streamEnd = (async () => {
      for await (const d of streamer) got.push(d);
    })().then(() => "ended without an error", reasonOf);
    await waitFor(() => got.length === 1, deadlineMs, "the stream took the record");
    const waiter = client.queue({ group: "q-del-topic", topic: "del-topic" });
    await waiter.ensure();
    const popEnd = waiter.pop({ timeoutMs: 60000 }).then((r) => `answered ${r.length} records`, reasonOf);
    await client.admin().deleteTopic("del-topic");
    assert.equal(await streamEnd, "ERROR_REASON_UNKNOWN_SHARE_GROUP");
    assert.equal(await popEnd, "ERROR_REASON_UNKNOWN_SHARE_GROUP");
    await topicWith("del-topic-after", 1);
    const after = client.queue({ group: "q-del-topic-after", topic: "del-topic-after" });
    assert.equal((await after.pop({ timeoutMs: 5000 })).length, 1, "the leader still hands records out");
    await Promise.all([streamer.close(), waiter.close(), after.close()]);
  });
});
