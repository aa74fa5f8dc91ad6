// kafkajs 2.x against a three-node cluster through the Kafka listener: records cross between Kafka and
// gRPC byte for byte with the same offsets; an idempotent acks=all producer and a consumer group that
// commits, stops and resumes from its commit (across a leader restart); a leader SIGKILL while an
// idempotent producer writes loses nothing acknowledged and duplicates nothing.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { ConfigResourceTypes, Kafka, logLevel, type Consumer, type EachMessagePayload } from "kafkajs";
import { startKafkaCluster, type KafkaCluster } from "../support/kafka-cluster";
import { rawStubs, unaryCall, type RawStubs } from "../support/raw-stubs";
import { waitFor } from "../support/wait";
import type { FetchResponse__Output } from "../../src/generated/raftline/v1/FetchResponse";
import type { ProduceResponse__Output } from "../../src/generated/raftline/v1/ProduceResponse";

const deadlineMs = 30000;
process.env.KAFKAJS_NO_PARTITIONER_WARNING = "1";

let kc: KafkaCluster;
let stubs: RawStubs;

function kafka(clientId: string): Kafka {
  return new Kafka({ clientId, brokers: kc.brokers, logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } });
}

async function fetchAll(topic: string, partition: number): Promise<FetchResponse__Output["records"]> {
  const res = await unaryCall<FetchResponse__Output>((o, cb) =>
    stubs.consumer.Fetch({ topic, partition, offset: 0, maxBytes: 4 * 1024 * 1024 }, new grpc.Metadata(), o, cb),
  );
  return res.records;
}

/** Runs a group consumer until `until` says it has seen enough; returns what it saw. */
async function consumeInGroup(k: Kafka, groupId: string, topic: string, until: (seen: EachMessagePayload[]) => boolean): Promise<{ seen: EachMessagePayload[]; consumer: Consumer }> {
  const consumer = k.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 500, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: EachMessagePayload[] = [];
  await consumer.run({ eachMessage: async (m) => void seen.push(m) });
  await waitFor(() => until(seen), deadlineMs, `group ${groupId} to consume`);
  return { seen, consumer };
}

describe("kafkajs through the Kafka listener", () => {
  before(async () => {
    kc = await startKafkaCluster({ cleanupAfter: false });
    await kc.cluster.waitForLeader(deadlineMs);
    stubs = rawStubs(kc.cluster.node(1).clientAddress);
  });
  after(async () => {
    stubs?.close();
    await kc?.cluster.cleanup();
  });

  test("records cross between Kafka and gRPC byte for byte, with the same offsets", async () => {
    const k = kafka("bytes");
    const admin = k.admin();
    await admin.connect();
    assert.equal(await admin.createTopics({ topics: [{ topic: "mixed", numPartitions: 2 }], waitForLeaders: true }), true);
    const producer = k.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const key = Buffer.from([0, 1, 2, 255]);
    const value = Buffer.from([9, 8, 0, 7, 200]);
    const sent = await producer.send({
      topic: "mixed",
      acks: -1,
      messages: [
        { partition: 0, key, value, headers: { h1: Buffer.from([1, 2]), h2: "text" }, timestamp: "1700000000123" },
        { partition: 0, value: Buffer.from("no key"), timestamp: "1700000000124" },
      ],
    });
    assert.equal(sent[0].errorCode, 0);
    assert.equal(sent[0].baseOffset, "0");
    const viaGrpc = await fetchAll("mixed", 0);
    assert.equal(viaGrpc.length, 2);
    assert.deepEqual(Buffer.from(viaGrpc[0].key ?? []), key);
    assert.deepEqual(Buffer.from(viaGrpc[0].value), value);
    assert.equal(viaGrpc[0].timestampMs, 1700000000123);
    assert.deepEqual(viaGrpc[0].headers.map((h) => [h.key, Buffer.from(h.value)]), [["h1", Buffer.from([1, 2])], ["h2", Buffer.from("text")]]);
    assert.equal(viaGrpc[1].offset, 1);
    assert.equal(viaGrpc[1].key, undefined, "a record without a key has none over gRPC either");

    const produced = await unaryCall<ProduceResponse__Output>((o, cb) =>
      stubs.producer.Produce(
        { acks: "ACKS_QUORUM", batches: [{ topic: "mixed", partition: 1, records: [{ key, value, headers: [{ key: "g", value: Buffer.from([5]) }], timestampMs: 1700000000999 }] }] },
        new grpc.Metadata(),
        o,
        cb,
      ),
    );
    assert.equal(produced.results[0].appends[0].baseOffset, 0);
    const { seen, consumer } = await consumeInGroup(k, "bytes-group", "mixed", (s) => s.length >= 3);
    await consumer.disconnect();
    const fromGrpc = seen.find((m) => m.partition === 1);
    assert.ok(fromGrpc);
    assert.equal(fromGrpc.message.offset, "0");
    assert.deepEqual(fromGrpc.message.key, key);
    assert.deepEqual(fromGrpc.message.value, value);
    assert.equal(fromGrpc.message.timestamp, "1700000000999");
    assert.deepEqual(fromGrpc.message.headers, { g: Buffer.from([5]) });
    const keyless = seen.find((m) => m.partition === 0 && m.message.offset === "1");
    assert.equal(keyless?.message.key, null);

    const offsets = await admin.fetchTopicOffsets("mixed");
    assert.deepEqual(offsets.map((o) => [o.partition, o.low, o.high]).sort(), [[0, "0", "2"], [1, "0", "1"]]);
    const byTime = await admin.fetchTopicOffsetsByTimestamp("mixed", 1700000000124);
    assert.equal(byTime.find((o) => o.partition === 0)?.offset, "1");
    await producer.disconnect();
    await admin.disconnect();
  });

  test("DescribeConfigs: a topic's settings under Kafka's names, a broker's, UNKNOWN_TOPIC_OR_PARTITION for a missing topic", async () => {
    const admin = kafka("configs").admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: "configured", numPartitions: 1, configEntries: [{ name: "retention.ms", value: "3600000" }] }], waitForLeaders: true });
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [
          { type: ConfigResourceTypes.TOPIC, name: "configured" },
          { type: ConfigResourceTypes.BROKER, name: "2", configNames: ["broker.id", "auto.create.topics.enable"] },
        ],
      });
      const topic = resources.find((r) => r.resourceType === ConfigResourceTypes.TOPIC);
      const values = new Map(topic?.configEntries.map((c) => [c.configName, [c.configValue, c.isDefault, c.readOnly]]));
      assert.deepEqual(values.get("retention.ms"), ["3600000", false, true]);
      assert.deepEqual(values.get("retention.bytes"), ["-1", true, true], "no size limit");
      assert.deepEqual(values.get("cleanup.policy"), ["delete", true, true]);
      assert.deepEqual(values.get("max.message.bytes"), [String(1024 * 1024), true, true]);
      assert.deepEqual(values.get("min.insync.replicas"), ["2", true, true], "a majority of three voters");
      const broker = resources.find((r) => r.resourceType === ConfigResourceTypes.BROKER);
      assert.deepEqual(broker?.configEntries.map((c) => [c.configName, c.configValue]), [["broker.id", "2"], ["auto.create.topics.enable", "false"]]);
      await assert.rejects(
        admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: "absent" }] }),
        (err: Error & { type?: string }) => err.type === "UNKNOWN_TOPIC_OR_PARTITION",
      );
    } finally {
      await admin.disconnect();
    }
  });

  test("a group commits, stops, and resumes from its commit after the leader restarts", async () => {
    const k = kafka("groups");
    const admin = k.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "orders", numPartitions: 3 }], waitForLeaders: true });
    const producer = k.producer({ idempotent: true });
    await producer.connect();
    const batch = (from: number, count: number): { key: string; value: string }[] =>
      Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: `order-${from + i}` }));
    await producer.send({ topic: "orders", acks: -1, messages: batch(0, 30) });

    const first = await consumeInGroup(k, "billing", "orders", (s) => s.length >= 30);
    await first.consumer.disconnect();
    assert.deepEqual(new Set(first.seen.map((m) => String(m.message.value))).size, 30);
    const committed = await admin.fetchOffsets({ groupId: "billing", topics: ["orders"] });
    const total = committed[0].partitions.reduce((sum, p) => sum + Number(p.offset), 0);
    assert.equal(total, 30, "the group's commits cover every record it consumed");

    const leader = await kc.cluster.waitForLeader(deadlineMs);
    await kc.cluster.restart(leader);
    await kc.cluster.waitForLeader(deadlineMs);
    await producer.send({ topic: "orders", acks: -1, messages: batch(30, 10) });
    const second = await consumeInGroup(k, "billing", "orders", (s) => s.length >= 10);
    // Records arriving after the condition held would be extra: give the consumer no room to fetch more.
    await second.consumer.disconnect();
    assert.deepEqual(second.seen.map((m) => String(m.message.value)).sort(), batch(30, 10).map((m) => m.value).sort());
    await producer.disconnect();
    await admin.disconnect();
  });

  test("a consuming group follows the coordinator to the new leader after a SIGKILL and reads on", async () => {
    const k = kafka("coordinator");
    const admin = k.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "moving", numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = k.producer({ idempotent: true });
    await producer.connect();
    const values = (from: number, count: number): string[] => Array.from({ length: count }, (_, i) => `moving-${from + i}`);
    await producer.send({ topic: "moving", acks: -1, messages: values(0, 20).map((value) => ({ value })) });
    const { seen, consumer } = await consumeInGroup(k, "followers", "moving", (s) => s.length >= 20);
    try {
      const leader = await kc.cluster.waitForLeader(deadlineMs);
      await kc.cluster.kill(leader, "SIGKILL");
      await kc.cluster.waitForLeader(deadlineMs, { among: kc.cluster.nodes.filter((n) => n.id !== leader).map((n) => n.id) });
      await producer.send({ topic: "moving", acks: -1, messages: values(20, 20).map((value) => ({ value })) });
      const want = new Set(values(0, 40));
      await waitFor(() => [...want].every((v) => seen.some((m) => String(m.message.value) === v)), deadlineMs, "the group to read the records written after the kill");
      await kc.cluster.restart(leader);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
  });

  test("an idempotent acks=all producer loses and duplicates nothing across a leader SIGKILL", async () => {
    const k = kafka("failover");
    const admin = k.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "ledger", numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = k.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const acknowledged: string[] = [];
    let killed = false;
    for (let i = 0; i < 60; i++) {
      const values = Array.from({ length: 5 }, (_, j) => `entry-${i * 5 + j}`);
      await producer.send({ topic: "ledger", acks: -1, messages: values.map((value) => ({ value, partition: 0 })) });
      acknowledged.push(...values);
      if (i === 20) {
        await kc.cluster.kill(await kc.cluster.waitForLeader(deadlineMs), "SIGKILL");
        killed = true;
      }
    }
    assert.ok(killed);
    await producer.disconnect();
    const survivor = kc.cluster.nodes.find((n) => n.running);
    assert.ok(survivor);
    const s = rawStubs(survivor.clientAddress);
    try {
      const read = await waitFor(async () => {
        const res = await unaryCall<FetchResponse__Output>((o, cb) =>
          s.consumer.Fetch({ topic: "ledger", partition: 0, offset: 0, maxBytes: 4 * 1024 * 1024 }, new grpc.Metadata(), o, cb),
        );
        return res.records.length >= acknowledged.length ? res.records : undefined;
      }, deadlineMs, "every acknowledged record to be readable");
      assert.deepEqual(read.map((r) => Buffer.from(r.value).toString()), acknowledged, "every acknowledged record, once, in order");
    } finally {
      s.close();
    }
  });
});
