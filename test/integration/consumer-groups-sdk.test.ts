// The SDK's group consumer on a real cluster: `for await` commits up to the record it stopped at,
// manual commits, a failing handler commits nothing it did not finish, pause/resume/seek, eachBatch,
// and a topic-wide subscription without a group.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ConsumedRecord, RaftlineClient } from "../../src/client";
import { Cluster, startCluster } from "../support/cluster";
import { waitFor } from "../support/wait";

const deadlineMs = 20000;
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

async function topicWith(name: string, partitions: number, perPartition: number): Promise<void> {
  await client.admin().createTopic({ name, partitions });
  const producer = client.producer();
  for (let p = 0; p < partitions; p++) {
    await producer.send({ topic: name, partition: p, records: Array.from({ length: perPartition }, (_, i) => ({ value: `${p}-${i}` })) });
  }
  await producer.close();
}

async function committed(groupId: string): Promise<number[]> {
  return (await client.groups().fetchOffsets(groupId)).map((o) => o.offset);
}

describe("the group consumer", () => {
  test("for await: breaking out commits through the record it stopped at, then leaves", async () => {
    await topicWith("iter", 1, 20);
    const consumer = client.consumer({ groupId: "g-iter", sessionTimeoutMs: 3000 });
    consumer.subscribe({ topics: ["iter"] });
    const seen: number[] = [];
    for await (const record of consumer) {
      seen.push(record.offset);
      if (seen.length === 10) break;
    }
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(await committed("g-iter"), [10]);
    assert.equal((await client.groups().describeGroup("g-iter")).members.length, 0);
  });

  test("manual commits, and a handler that throws commits nothing it did not finish", async () => {
    await topicWith("manual", 1, 10);
    const consumer = client.consumer({ groupId: "g-manual", sessionTimeoutMs: 3000, autoCommit: false });
    consumer.subscribe({ topics: ["manual"] });
    const handled: number[] = [];
    const running = consumer.run({
      eachMessage: async (r) => {
        if (r.offset === 6) throw new Error("handler failed");
        handled.push(r.offset);
        if (r.offset === 2) await consumer.commit();
      },
    });
    await assert.rejects(running, /handler failed/);
    // The commit inside the handler ran before offset 2 returned: it covers 0 and 1.
    assert.deepEqual(await committed("g-manual"), [2]);
    await consumer.close();
    assert.deepEqual(handled, [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(await committed("g-manual"), [6], "close commits what was handled, not the record that failed");
  });

  test("pause holds a partition back, resume lets it go on, seek rereads", async () => {
    await topicWith("pausing", 2, 3);
    const consumer = client.consumer({ groupId: "g-pause", sessionTimeoutMs: 3000 });
    consumer.subscribe({ topics: ["pausing"] });
    const got: ConsumedRecord[] = [];
    const running = consumer.run({ eachMessage: (r) => void got.push(r) });
    const of = (p: number): number[] => got.filter((r) => r.partition === p).map((r) => r.offset);
    await waitFor(() => got.length === 6, deadlineMs, "the first six records");
    consumer.pause([{ topic: "pausing", partition: 0 }]);
    const producer = client.producer();
    await producer.send({ topic: "pausing", partition: 0, records: [{ value: "late-0" }] });
    await producer.send({ topic: "pausing", partition: 1, records: [{ value: "late-1" }] });
    await waitFor(() => of(1).length === 4, deadlineMs, "the unpaused partition's new record");
    assert.deepEqual(of(0), [0, 1, 2], "nothing from the paused partition");
    consumer.resume([{ topic: "pausing", partition: 0 }]);
    await waitFor(() => of(0).length === 4, deadlineMs, "the paused partition's record after resume");
    consumer.seek({ topic: "pausing", partition: 1, offset: 1 });
    await waitFor(() => of(1).length === 7, deadlineMs, "offsets 1..3 of partition 1 again");
    assert.deepEqual(of(1), [0, 1, 2, 3, 1, 2, 3]);
    await producer.close();
    await consumer.close();
    await running;
    assert.deepEqual(await committed("g-pause"), [4, 4]);
  });

  test("eachBatch hands over a partition's records together, in order", async () => {
    await topicWith("batches", 2, 50);
    const consumer = client.consumer({ groupId: "g-batch", sessionTimeoutMs: 3000 });
    consumer.subscribe({ topics: ["batches"] });
    const byPartition = new Map<number, number[]>();
    const running = consumer.run({
      eachBatch: ({ partition, records }) => {
        byPartition.set(partition, [...(byPartition.get(partition) ?? []), ...records.map((r) => r.offset)]);
      },
    });
    await waitFor(() => (byPartition.get(0)?.length ?? 0) + (byPartition.get(1)?.length ?? 0) === 100, deadlineMs, "100 records");
    for (const offsets of byPartition.values()) assert.deepEqual(offsets, Array.from({ length: 50 }, (_, i) => i));
    await consumer.close();
    await running;
    assert.deepEqual(await committed("g-batch"), [50, 50]);
  });

  test("a member that cannot join (unknown topic) ends run() with the error", async () => {
    const consumer = client.consumer({ groupId: "g-fail", sessionTimeoutMs: 3000 });
    consumer.subscribe({ topics: ["no-such-topic"] });
    await assert.rejects(consumer.run({ eachMessage: () => undefined }), (err: Error & { reason?: string }) => err.reason === "ERROR_REASON_UNKNOWN_TOPIC");
  });

  test("a topic-wide subscription without a group reads every partition, each in order", async () => {
    await topicWith("wide", 3, 5);
    const subscription = client.consumer().subscribeTopic({ topic: "wide", from: "earliest" });
    const got: ConsumedRecord[] = [];
    for await (const record of subscription) {
      got.push(record);
      if (got.length === 15) break;
    }
    for (let p = 0; p < 3; p++) {
      assert.deepEqual(got.filter((r) => r.partition === p).map((r) => r.value.toString()), [0, 1, 2, 3, 4].map((i) => `${p}-${i}`));
    }
  });
});
