// Work queues (share groups) on a real three-node cluster: workers drain a topic with every record
// accepted once, an abandoned lock is redelivered elsewhere, the delivery limit and REJECT move records
// to the dead-letter topic byte for byte, backoff is respected, Pop works from a follower, for many
// callers and when empty, and bad inputs get their documented statuses and change nothing.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { type QueueDelivery, type RaftlineClient, type WorkQueue } from "../../src/client";
import { Cluster, startCluster } from "../support/cluster";
import { waitFor, withDeadline } from "../support/wait";
import { expectError as rawError, rawStubs, unaryCall } from "../support/raw-stubs";
import type { CreateShareGroupRequest } from "../../src/generated/raftline/v1/CreateShareGroupRequest";
import type { PopRequest } from "../../src/generated/raftline/v1/PopRequest";
import type { RecordAck } from "../../src/generated/raftline/v1/RecordAck";

const deadlineMs = 30000;
let cluster: Cluster;
let client: RaftlineClient;

before(async () => {
  cluster = await startCluster({ cleanupAfter: false });
  await cluster.waitForLeader(deadlineMs);
  client = cluster.client();
});

after(async () => {
  await cluster?.cleanup();
});

async function topicWith(name: string, partitions: number, count: number, headers = false): Promise<void> {
  await client.admin().createTopic({ name, partitions });
  const producer = client.producer();
  const records = Array.from({ length: count }, (_, i) => ({
    key: `k${i}`,
    value: `v${i}`,
    ...(headers ? { headers: [{ key: "h", value: Buffer.from([0, 255, i]) }] } : {}),
  }));
  await producer.send({ topic: name, records });
  await producer.close();
}

/** Takes `n` deliveries from a queue's stream without answering them. */
async function take(queue: WorkQueue, n: number): Promise<QueueDelivery[]> {
  const out: QueueDelivery[] = [];
  const it = queue[Symbol.asyncIterator]();
  while (out.length < n) {
    const next = await it.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

describe("work queues", () => {
  test("four workers drain a topic: every record accepted exactly once", async () => {
    await topicWith("drain", 3, 300);
    const seen = new Map<string, number>();
    const workers = Array.from({ length: 4 }, () => client.queue({ group: "q-drain", topic: "drain", prefetch: 20 }));
    await workers[0].ensure();
    const done = workers.map(async (w) => {
      for await (const d of w) {
        const key = `${d.partition}/${d.offset}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        await d.ack();
        if (seen.size === 300) break;
      }
    });
    await waitFor(() => seen.size === 300, deadlineMs, "300 distinct records");
    await Promise.all(workers.map((w) => w.close()));
    await Promise.race([Promise.all(done), new Promise((r) => setTimeout(r, 100))]);
    assert.ok([...seen.values()].every((n) => n === 1), "no record delivered twice");
    const d = await client.shares().describeShareGroup("q-drain");
    assert.equal(Number(d.acceptedTotal), 300);
    assert.deepEqual(d.partitions.map((p) => Number(p.lag)), [0, 0, 0]);
  });

  test("a worker that dies holding records: they go to another worker after the lock timeout", async () => {
    await topicWith("abandon", 1, 5);
    const config = { lockTimeoutMs: 1000 };
    const dying = client.queue({ group: "q-abandon", topic: "abandon", config, prefetch: 5 });
    const held = await take(dying, 5);
    assert.deepEqual(held.map((d) => d.offset), [0, 1, 2, 3, 4]);
    await held[0].ack();
    await dying.close();
    const startedMs = Date.now();
    const other = client.queue({ group: "q-abandon", topic: "abandon" });
    const again = await take(other, 4);
    assert.ok(Date.now() - startedMs >= 500, "not before the lock ran out");
    assert.deepEqual(again.map((d) => d.offset).sort(), [1, 2, 3, 4]);
    assert.ok(again.every((d) => d.deliveryCount === 2));
    await Promise.all(again.map((d) => d.ack()));
    await other.close();
  });

  test("always released: dead-lettered after exactly the delivery limit, byte for byte", async () => {
    await topicWith("poison", 1, 1, true);
    const q = client.queue({ group: "q-poison", topic: "poison", config: { deliveryLimit: 3, lockTimeoutMs: 5000 } });
    const counts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const [d] = await q.pop({ timeoutMs: 5000 });
      counts.push(d.deliveryCount);
      await d.release();
    }
    assert.deepEqual(counts, [1, 2, 3]);
    assert.deepEqual(await q.pop({ timeoutMs: 300 }), [], "not delivered a fourth time");
    const dead = await waitFor(async () => {
      const { records } = await client.consumer().fetch({ topic: "q-poison.dlq", partition: 0, offset: 0, maxWaitMs: 200 });
      return records.length > 0 ? records : undefined;
    }, deadlineMs, "the dead letter");
    const { records: source } = await client.consumer().fetch({ topic: "poison", partition: 0, offset: 0 });
    assert.equal(dead.length, 1);
    assert.deepEqual(dead[0].key, source[0].key);
    assert.deepEqual(dead[0].value, source[0].value);
    assert.equal(dead[0].timestampMs, source[0].timestampMs);
    assert.deepEqual(dead[0].headers.slice(0, 1), source[0].headers);
    const h = Object.fromEntries(dead[0].headers.slice(1).map((x) => [x.key, x.value.toString()]));
    assert.equal(h["raftline-dlq-source-topic"], "poison");
    assert.equal(h["raftline-dlq-source-partition"], "0");
    assert.equal(h["raftline-dlq-source-offset"], "0");
    assert.equal(h["raftline-dlq-delivery-count"], "3");
    assert.equal(h["raftline-dlq-reason"], "delivery limit");
    assert.ok(Number(h["raftline-dlq-time-ms"]) > 0);
    const desc = await client.shares().describeShareGroup("q-poison");
    assert.equal(Number(desc.deadLetteredTotal), 1);
    assert.equal(Number(desc.partitions[0].startOffset), 1);
    await q.close();
  });

  test("REJECT goes straight to the dead-letter topic with its reason", async () => {
    await topicWith("reject", 1, 2);
    const q = client.queue({ group: "q-reject", topic: "reject" });
    const [d] = await q.pop({ timeoutMs: 5000 });
    await d.reject("cannot parse");
    const { records } = await client.consumer().fetch({ topic: "q-reject.dlq", partition: 0, offset: 0, maxWaitMs: 1000 });
    assert.equal(records.length, 1);
    assert.equal(records[0].value.toString(), "v0");
    const reason = records[0].headers.find((x) => x.key === "raftline-dlq-reason")?.value.toString();
    assert.equal(reason, "rejected: cannot parse");
    assert.equal(records[0].headers.find((x) => x.key === "raftline-dlq-delivery-count")?.value.toString(), "1");
    const [next] = await q.pop({ timeoutMs: 5000 });
    assert.equal(next.offset, 1, "the rejected record is not delivered again");
    await next.ack();
    await q.close();
  });

  test("a record answered twice on the stream before the first result: both answers settle and close() returns", async () => {
    await topicWith("twice", 1, 1);
    const q = client.queue({ group: "q-twice", topic: "twice" });
    for await (const d of q) {
      // Sent in one flush; the results come back in order, one per answer.
      await withDeadline(Promise.all([d.renew(), d.ack()]), deadlineMs, "the renew and the accept to settle");
      break;
    }
    await withDeadline(q.close(), deadlineMs, "close() after both answers");
    // The same through Pop and the Ack rpc: the two go one after the other, not side by side.
    await client.producer().send({ topic: "twice", records: [{ value: "again" }] });
    const popper = client.queue({ group: "q-twice", topic: "twice" });
    const [p] = await popper.pop({ timeoutMs: 5000 });
    assert.equal(p.value.toString(), "again");
    await withDeadline(Promise.all([p.renew(), p.ack()]), deadlineMs, "the popped record's renew and accept");
    await popper.close();
  });

  test("redelivery waits for the group's exponential backoff and for a release's delay", async () => {
    await topicWith("backoff", 1, 1);
    const q = client.queue({ group: "q-backoff", topic: "backoff", config: { backoffInitialMs: 300, backoffMaxMs: 5000, deliveryLimit: 10 } });
    const gaps: number[] = [];
    let [d] = await q.pop({ timeoutMs: 5000 });
    for (let i = 0; i < 2; i++) {
      const releasedMs = Date.now();
      await d.release();
      [d] = await q.pop({ timeoutMs: 10000 });
      gaps.push(Date.now() - releasedMs);
    }
    assert.ok(gaps[0] >= 300, `first redelivery after ${gaps[0]} ms, backoff 300`);
    assert.ok(gaps[1] >= 600, `second redelivery after ${gaps[1]} ms, backoff 600`);
    const releasedMs = Date.now();
    await d.release({ delayMs: 1500 });
    [d] = await q.pop({ timeoutMs: 10000 });
    assert.ok(Date.now() - releasedMs >= 1500, "the release's longer delay wins");
    await d.ack();
    await q.close();
  });

  test("Pop: from a follower, from many concurrent callers, and empty after its timeout", async () => {
    await topicWith("pops", 2, 40);
    await client.queue({ group: "q-pops", topic: "pops" }).ensure();
    const leader = await cluster.waitForLeader(deadlineMs);
    const follower = cluster.node(leader === 1 ? 2 : 1).clientAddress;
    const viaFollower = cluster.client({ brokers: [follower] }).queue({ group: "q-pops", topic: "pops" });
    const first = await viaFollower.pop({ maxRecords: 5, timeoutMs: 5000 });
    assert.equal(first.length, 5);
    await Promise.all(first.map((d) => d.ack()));
    const callers = Array.from({ length: 12 }, () => client.queue({ group: "q-pops", topic: "pops" }));
    const got = await Promise.all(callers.map((c) => c.pop({ maxRecords: 3, timeoutMs: 5000 })));
    const all = got.flat().map((d) => `${d.partition}/${d.offset}`);
    assert.equal(new Set(all).size, all.length, "no record to two callers");
    assert.equal(all.length, 35, "35 records were left, and 36 asked for");
    await Promise.all(got.flat().map((d) => d.ack()));
    const startedMs = Date.now();
    assert.deepEqual(await viaFollower.pop({ maxRecords: 10, timeoutMs: 700 }), []);
    assert.ok(Date.now() - startedMs >= 600, "it waited for its timeout");
    await Promise.all([viaFollower, ...callers].map((c) => c.close()));
  });

  test("bad inputs get their documented statuses and change nothing", async () => {
    await topicWith("bad", 1, 3);
    const q = client.queue({ group: "q-bad", topic: "bad", config: { lockTimeoutMs: 60000 } });
    const [held] = await q.pop({ timeoutMs: 5000 });
    const before = await client.shares().describeShareGroup("q-bad");
    const raw = rawStubs(cluster.brokers[0]);
    const reasonOf = async (promise: Promise<unknown>): Promise<string> => {
      const err = await rawError(promise);
      return `${status[err.code]} ${String(err.metadata.get("raftline-error-reason")[0])}`;
    };
    const pop = (req: Partial<PopRequest>): Promise<string> => reasonOf(unaryCall((o, cb) => raw.shares.Pop({ groupId: "q-bad", ...req }, o, cb)));
    const ack = (consumerId: string, acks: Partial<RecordAck>[], groupId = "q-bad"): Promise<string> =>
      reasonOf(unaryCall((o, cb) => raw.shares.Ack({ groupId, consumerId, acks: acks.map((a) => ({ type: "ACK_TYPE_ACCEPT", ...a })) }, o, cb)));
    assert.equal(await pop({ groupId: "q-unknown" }), "NOT_FOUND ERROR_REASON_UNKNOWN_SHARE_GROUP");
    assert.equal(await pop({ groupId: "bad group!" }), "INVALID_ARGUMENT ERROR_REASON_INVALID_GROUP_ID");
    assert.equal(await pop({ timeoutMs: 10_000_000 }), "INVALID_ARGUMENT ERROR_REASON_INVALID_FIELD");
    assert.equal(await pop({ timeoutMs: -1 }), "INVALID_ARGUMENT ERROR_REASON_INVALID_FIELD");
    assert.equal(await pop({ maxRecords: 5000 }), "INVALID_ARGUMENT ERROR_REASON_INVALID_FIELD");
    const owner = q.consumerId;
    assert.equal(await ack("someone-else", [{ partition: 0, offset: held.offset }]), "FAILED_PRECONDITION ERROR_REASON_NOT_RECORD_OWNER");
    assert.equal(await ack(owner, [{ partition: 0, offset: 2 }]), "FAILED_PRECONDITION ERROR_REASON_RECORD_NOT_ACQUIRED", "never delivered");
    assert.equal(await ack(owner, [{ partition: 0, offset: held.offset }, { partition: 0, offset: 2 }]), "FAILED_PRECONDITION ERROR_REASON_RECORD_NOT_ACQUIRED", "all or nothing");
    assert.equal(await ack(owner, [{ partition: 7, offset: 0 }]), "INVALID_ARGUMENT ERROR_REASON_INVALID_PARTITION");
    assert.equal(await ack(owner, [{ partition: 0, offset: held.offset, type: "ACK_TYPE_UNSPECIFIED" }]), "INVALID_ARGUMENT ERROR_REASON_INVALID_FIELD");
    assert.equal(await ack(owner, [{ partition: 0, offset: held.offset, type: "ACK_TYPE_RELEASE", delayMs: 999_999_999 }]), "INVALID_ARGUMENT ERROR_REASON_INVALID_FIELD");
    assert.equal(await ack(owner, [{ partition: 0, offset: held.offset }, { partition: 0, offset: held.offset }]), "INVALID_ARGUMENT ERROR_REASON_INVALID_FIELD");
    assert.equal(await ack(owner, []), "INVALID_ARGUMENT ERROR_REASON_INVALID_FIELD");
    assert.equal(await ack("", [{ partition: 0, offset: held.offset }]), "INVALID_ARGUMENT ERROR_REASON_INVALID_FIELD");
    assert.equal(await ack(owner, [{ partition: 0, offset: 0 }], "q-unknown"), "NOT_FOUND ERROR_REASON_UNKNOWN_SHARE_GROUP");
    const create = (req: Partial<CreateShareGroupRequest>): Promise<string> =>
      reasonOf(unaryCall((o, cb) => raw.shares.CreateShareGroup({ groupId: "q-bad2", topic: "bad", ...req }, o, cb)));
    assert.equal(await create({ config: { deliveryLimit: 10_000 } }), "INVALID_ARGUMENT ERROR_REASON_INVALID_FIELD");
    assert.equal(await create({ config: { lockTimeoutMs: 1 } }), "INVALID_ARGUMENT ERROR_REASON_INVALID_FIELD");
    assert.equal(await create({ config: { backoffInitialMs: 5000, backoffMaxMs: 10 } }), "INVALID_ARGUMENT ERROR_REASON_INVALID_FIELD");
    assert.equal(await create({ config: { deadLetterTopic: "bad" } }), "INVALID_ARGUMENT ERROR_REASON_INVALID_FIELD");
    assert.equal(await create({ groupId: "q-bad", topic: "drain" }), "ALREADY_EXISTS ERROR_REASON_SHARE_GROUP_EXISTS");
    assert.equal(await create({ topic: "missing" }), "NOT_FOUND ERROR_REASON_UNKNOWN_TOPIC");
    const afterwards = await client.shares().describeShareGroup("q-bad");
    assert.deepEqual(afterwards.partitions, before.partitions, "nothing changed");
    assert.deepEqual(afterwards.config, before.config);
    assert.ok(!(await client.shares().listShareGroups()).some((g) => g.groupId === "q-bad2"));
    await held.ack();
    raw.close();
    await q.close();
  });

  test("a topic deleted and created again under its name: the group answers UNKNOWN_SHARE_GROUP until created again, then starts afresh", async () => {
    await topicWith("again", 1, 3);
    const q = client.queue({ group: "q-again", topic: "again" });
    const [first] = await q.pop({ maxRecords: 1, timeoutMs: 5000 });
    assert.equal(first.value.toString(), "v0");
    await client.admin().deleteTopic("again");
    await assert.rejects(q.pop({ timeoutMs: 0 }), (err: { reason?: string }) => err.reason === "ERROR_REASON_UNKNOWN_SHARE_GROUP");
    await topicWith("again", 2, 2);
    const fresh = client.queue({ group: "q-again", topic: "again" });
    await fresh.ensure();
    const got = await fresh.pop({ maxRecords: 10, timeoutMs: 5000 });
    assert.ok(got.length >= 1 && got.every((d) => d.deliveryCount === 1), "the new topic's records, delivered for the first time");
    await Promise.all(got.map((d) => d.ack()));
    const described = await client.shares().describeShareGroup("q-again");
    assert.equal(described.partitions.length, 2);
    await Promise.all([q.close(), fresh.close()]);
  });
});
