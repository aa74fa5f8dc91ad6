// The public API against a real three-node cluster: round trips through every node, long polls,
// subscriptions, pipelined produce, leader hints, and bad input that must fail clearly and change nothing.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { randomBytes } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { Cluster, startCluster } from "../support/cluster";
import { RawStubs, expectError, rawStubs, unaryCall } from "../support/raw-stubs";
import { waitFor } from "../support/wait";
import type { ProduceRequest } from "../../src/generated/raftline/v1/ProduceRequest";
import type { ProduceResponse__Output } from "../../src/generated/raftline/v1/ProduceResponse";
import type { FetchResponse__Output } from "../../src/generated/raftline/v1/FetchResponse";
import type { CreateTopicResponse__Output } from "../../src/generated/raftline/v1/CreateTopicResponse";
import type { DescribeTopicResponse__Output } from "../../src/generated/raftline/v1/DescribeTopicResponse";
import type { DescribeClusterResponse__Output } from "../../src/generated/raftline/v1/DescribeClusterResponse";
import type { ListTopicsResponse__Output } from "../../src/generated/raftline/v1/ListTopicsResponse";
import type { TransferLeadershipResponse__Output } from "../../src/generated/raftline/v1/TransferLeadershipResponse";
import type { SubscribeResponse__Output } from "../../src/generated/raftline/v1/SubscribeResponse";

const electionDeadlineMs = 15000;

let cluster: Cluster;
let leader: number;
const stubs = new Map<number, RawStubs>();
const on = (id: number): RawStubs => {
  let s = stubs.get(id);
  if (!s) {
    s = rawStubs(cluster.node(id).clientAddress);
    stubs.set(id, s);
  }
  return s;
};
const followers = (): number[] => cluster.nodes.map((n) => n.id).filter((id) => id !== leader);

function produce(id: number, req: ProduceRequest): Promise<ProduceResponse__Output> {
  const p = on(id).producer;
  return unaryCall((opts, cb) => p.Produce(req, new grpc.Metadata(), opts, cb));
}

function fetch(id: number, topic: string, partition: number, offset: number, extra: { minBytes?: number; maxWaitMs?: number } = {}) {
  const c = on(id).consumer;
  return unaryCall<FetchResponse__Output>((opts, cb) => c.Fetch({ topic, partition, offset, ...extra }, new grpc.Metadata(), opts, cb), 40000);
}

function createTopic(id: number, name: string, partitions: number, extra: { maxRecordBytes?: number; retentionMs?: number; retentionBytes?: number } = {}) {
  const a = on(id).admin;
  return unaryCall<CreateTopicResponse__Output>((opts, cb) => a.CreateTopic({ name, partitions, ...extra }, new grpc.Metadata(), opts, cb));
}

function describeTopic(id: number, name: string) {
  const a = on(id).admin;
  return unaryCall<DescribeTopicResponse__Output>((opts, cb) => a.DescribeTopic({ name }, new grpc.Metadata(), opts, cb));
}

const text = (s: string): Buffer => Buffer.from(s, "utf8");

before(async () => {
  cluster = await startCluster({ nodes: 3, cleanupAfter: false, extraArgs: ["--retention-check-ms", "200"] });
  leader = await cluster.waitForLeader(electionDeadlineMs);
});

after(async () => {
  for (const s of stubs.values()) s.close();
  await cluster?.cleanup();
});

describe("round trips", () => {
  test("produce through every node, fetch the same records from every node", async () => {
    await createTopic(followers()[0], "roundtrip", 1);
    const offsets: number[] = [];
    for (const node of cluster.nodes) {
      const res = await produce(node.id, { batches: [{ topic: "roundtrip", partition: 0, records: [{ value: text(`via ${node.id}`) }] }] });
      offsets.push(Number(res.results[0].appends[0].baseOffset));
    }
    assert.deepEqual(offsets, [0, 1, 2], "offsets are dense, in produce order");
    for (const node of cluster.nodes) {
      // A follower serves what it has applied, which may trail the leader's answer for a moment.
      const res = await waitFor(async () => {
        const r = await fetch(node.id, "roundtrip", 0, 0);
        return r.records.length === 3 ? r : undefined;
      }, 10000, `node ${node.id} to apply all three records`);
      assert.deepEqual(
        res.records.map((r) => [Number(r.offset), r.value.toString()]),
        [
          [0, "via 1"],
          [1, "via 2"],
          [2, "via 3"],
        ],
        `node ${node.id} serves the same log`,
      );
      assert.equal(Number(res.highWatermark), 3);
    }
  });

  test("keys, headers and timestamps survive the round trip; keyed records land on murmur2 partitions", async () => {
    await createTopic(leader, "keyed", 4);
    const res = await produce(leader, {
      batches: [
        {
          topic: "keyed",
          records: [
            { key: text("alpha"), value: text("1"), headers: [{ key: "h", value: text("v") }], timestampMs: 1234 },
            { key: text("beta"), value: text("2") },
          ],
        },
      ],
    });
    const placed = res.results[0].appends;
    assert.ok(placed.length >= 1);
    const first = placed.find((a) => a.recordIndices.length === 0 || a.recordIndices.includes(0));
    assert.ok(first);
    const got = await fetch(followers()[0], "keyed", first.partition, Number(first.baseOffset), { minBytes: 1, maxWaitMs: 5000 });
    const rec = got.records[0];
    assert.equal(rec.key?.toString(), "alpha");
    assert.equal(rec.value.toString(), "1");
    assert.deepEqual(rec.headers.map((h) => [h.key, h.value.toString()]), [["h", "v"]]);
    assert.equal(Number(rec.timestampMs), 1234);
  });

  test("a long poll on a follower wakes when a record commits", async () => {
    await createTopic(leader, "longpoll", 1);
    const follower = followers()[1];
    const started = Date.now();
    const polling = fetch(follower, "longpoll", 0, 0, { minBytes: 1, maxWaitMs: 20000 });
    await produce(leader, { batches: [{ topic: "longpoll", partition: 0, records: [{ value: text("wake") }] }] });
    const res = await polling;
    assert.equal(res.records.length, 1);
    assert.equal(res.records[0].value.toString(), "wake");
    assert.ok(Date.now() - started < 20000, "answered on commit, not at max_wait_ms");
  });

  test("a fetch on a follower past its high watermark catches up to the leader's commit first", async () => {
    await createTopic(leader, "readyourwrites", 1);
    for (const follower of followers()) {
      const res = await produce(leader, { batches: [{ topic: "readyourwrites", partition: 0, records: [{ value: text("x") }] }] });
      const next = Number(res.results[0].appends[0].baseOffset) + 1;
      const got = await fetch(follower, "readyourwrites", 0, next - 1);
      assert.equal(got.records.length, 1);
    }
  });

  test("Subscribe streams records in order across many batches, pushed as they commit", async () => {
    await createTopic(leader, "stream", 1);
    const batches = 40;
    const perBatch = 25;
    const total = batches * perBatch;
    const call = on(followers()[0]).consumer.Subscribe({ topic: "stream", partition: 0, position: "START_POSITION_EARLIEST" });
    const received: string[] = [];
    let lastOffset = -1;
    const done = new Promise<void>((resolve, reject) => {
      call.on("data", (res: SubscribeResponse__Output) => {
        for (const r of res.records) {
          if (Number(r.offset) !== lastOffset + 1) reject(new Error(`offset ${r.offset} after ${lastOffset}`));
          lastOffset = Number(r.offset);
          received.push(r.value.toString());
        }
        if (received.length >= total) resolve();
      });
      call.on("error", (err) => reject(err));
    });
    const stream = on(leader).producer.ProduceStream();
    const answered = new Map<number, ProduceResponse__Output>();
    const allAnswered = new Promise<void>((resolve) =>
      stream.on("data", (res: ProduceResponse__Output) => {
        answered.set(Number(res.correlationId), res);
        if (answered.size === batches) resolve();
      }),
    );
    for (let b = 0; b < batches; b++) {
      const records = Array.from({ length: perBatch }, (_, i) => ({ value: text(`${b}:${i}`) }));
      stream.write({ correlationId: b + 1, batches: [{ topic: "stream", partition: 0, records }] });
    }
    stream.end();
    await allAnswered;
    await done;
    call.cancel();
    const expected = Array.from({ length: batches }, (_, b) => Array.from({ length: perBatch }, (_, i) => `${b}:${i}`)).flat();
    assert.deepEqual(received.slice(0, total), expected, "records arrive in produce order");
    for (let b = 1; b <= batches; b++) {
      const res = answered.get(b);
      assert.ok(res && !res.error, `request ${b} answered without error`);
      assert.equal(Number(res.results[0].appends[0].baseOffset), (b - 1) * perBatch, "pipelined requests keep stream order");
    }
  });

  test("ProduceStream answers a bad request inline and keeps the stream open", async () => {
    await createTopic(leader, "inline", 1);
    const stream = on(followers()[0]).producer.ProduceStream();
    const answers: ProduceResponse__Output[] = [];
    const all = new Promise<void>((resolve) =>
      stream.on("data", (res: ProduceResponse__Output) => {
        answers.push(res);
        if (answers.length === 3) resolve();
      }),
    );
    stream.write({ correlationId: 1, batches: [{ topic: "inline", partition: 0, records: [{ value: text("a") }] }] });
    stream.write({ correlationId: 2, batches: [{ topic: "no-such-topic", partition: 0, records: [{ value: text("b") }] }] });
    stream.write({ correlationId: 3, batches: [{ topic: "inline", partition: 0, records: [{ value: text("c") }] }] });
    await all;
    stream.end();
    const byId = new Map(answers.map((a) => [Number(a.correlationId), a]));
    assert.equal(byId.get(1)?.error, null);
    assert.equal(byId.get(2)?.error?.code, grpc.status.NOT_FOUND);
    assert.equal(byId.get(2)?.error?.reason, "ERROR_REASON_UNKNOWN_TOPIC");
    assert.equal(byId.get(3)?.error, null);
  });
});

describe("retention", () => {
  test("old batches are removed on every node, and reads below the start offset get OUT_OF_RANGE", async () => {
    await createTopic(leader, "shortlived", 1, { retentionMs: 1000 });
    const old = Date.now() - 60_000;
    await produce(leader, { batches: [{ topic: "shortlived", partition: 0, records: [{ value: text("old"), timestampMs: old }] }] });
    await produce(leader, { batches: [{ topic: "shortlived", partition: 0, records: [{ value: text("older"), timestampMs: old }] }] });
    await produce(leader, { batches: [{ topic: "shortlived", partition: 0, records: [{ value: text("new") }] }] });
    for (const node of cluster.nodes) {
      await waitFor(async () => Number((await describeTopic(node.id, "shortlived")).partitions[0].startOffset) === 2, 15000, `retention on node ${node.id}`);
      const err = await expectError(fetch(node.id, "shortlived", 0, 0));
      assert.equal(err.code, grpc.status.OUT_OF_RANGE);
      assert.match(err.details, /\[2, 3\]/);
      const kept = await fetch(node.id, "shortlived", 0, 2);
      assert.deepEqual(kept.records.map((r) => r.value.toString()), ["new"]);
    }
  });
});

describe("the cluster", () => {
  test("DescribeCluster on a follower shows every node, one leader, and follower lag", async () => {
    const a = on(followers()[0]).admin;
    const res = await unaryCall<DescribeClusterResponse__Output>((opts, cb) => a.DescribeCluster({}, new grpc.Metadata(), opts, cb));
    assert.equal(res.leaderId, leader);
    assert.deepEqual(res.nodes.map((n) => n.id), [1, 2, 3]);
    assert.equal(res.nodes.filter((n) => n.role === "NODE_ROLE_LEADER").length, 1);
    for (const n of res.nodes) {
      assert.ok(n.reachable, `node ${n.id} reachable`);
      assert.ok(Number(n.appliedIndex) > 0);
      assert.ok(n.lag !== null && n.lag !== undefined);
    }
  });

  test("linearizable reads through every node at once all answer", async () => {
    for (let round = 0; round < 10; round++) {
      const answers = await Promise.all(cluster.nodes.map((n) => describeTopic(n.id, "roundtrip")));
      for (const a of answers) assert.equal(a.topic?.name, "roundtrip");
    }
  });

  test("a node that is not the leader names the leader when it cannot forward", async () => {
    const follower = followers()[0];
    const md = new grpc.Metadata();
    md.set("raftline-forwarded-by", "99");
    const p = on(follower).producer;
    const err = await expectError(
      unaryCall((opts, cb) => p.Produce({ batches: [{ topic: "roundtrip", partition: 0, records: [{ value: text("x") }] }] }, md, opts, cb)),
    );
    assert.equal(err.code, grpc.status.UNAVAILABLE);
    assert.equal(err.metadata.get("raftline-leader-id")[0], String(leader));
    assert.equal(err.metadata.get("raftline-leader-address")[0], cluster.node(leader).clientAddress);
    assert.equal(err.metadata.get("raftline-error-reason")[0], "ERROR_REASON_NOT_LEADER");
  });

  test("garbage bytes on the client and peer ports do not hurt a node", async () => {
    const node = cluster.node(followers()[0]);
    for (const address of [node.clientAddress, node.peerAddress]) {
      const [host, port] = address.split(":");
      await new Promise<void>((resolve) => {
        const socket = connect(Number(port), host, () => {
          socket.write(randomBytes(4096));
          socket.end();
        });
        socket.resume();
        socket.on("close", () => resolve());
        socket.on("error", () => resolve());
      });
    }
    assert.ok(node.running, "the node is still running");
    const res = await fetch(node.id, "roundtrip", 0, 0);
    assert.equal(res.records.length, 3);
  });
});

describe("bad input fails clearly and changes nothing", () => {
  const oneRecord = [{ value: text("x") }];

  test("each bad request gets its status code and reason, through the leader and through a follower", async () => {
    await createTopic(leader, "strict", 2, { maxRecordBytes: 1000 });
    const before = await describeTopic(leader, "strict");
    for (const id of [leader, followers()[0]]) {
      const cases: { name: string; call: () => Promise<unknown>; code: grpc.status; reason: string }[] = [
        { name: "unknown topic", call: () => produce(id, { batches: [{ topic: "nope", records: oneRecord }] }), code: grpc.status.NOT_FOUND, reason: "ERROR_REASON_UNKNOWN_TOPIC" },
        { name: "partition out of range", call: () => produce(id, { batches: [{ topic: "strict", partition: 2, records: oneRecord }] }), code: grpc.status.INVALID_ARGUMENT, reason: "ERROR_REASON_INVALID_PARTITION" },
        { name: "empty batch", call: () => produce(id, { batches: [{ topic: "strict", partition: 0, records: [] }] }), code: grpc.status.INVALID_ARGUMENT, reason: "ERROR_REASON_EMPTY_BATCH" },
        { name: "no batches", call: () => produce(id, { batches: [] }), code: grpc.status.INVALID_ARGUMENT, reason: "ERROR_REASON_EMPTY_BATCH" },
        { name: "record over max_record_bytes", call: () => produce(id, { batches: [{ topic: "strict", partition: 0, records: [{ value: Buffer.alloc(2000) }] }] }), code: grpc.status.RESOURCE_EXHAUSTED, reason: "ERROR_REASON_RECORD_TOO_LARGE" },
        { name: "invalid topic name", call: () => createTopic(id, "bad name!", 1), code: grpc.status.INVALID_ARGUMENT, reason: "ERROR_REASON_INVALID_TOPIC_NAME" },
        { name: "zero partitions", call: () => createTopic(id, "zero", 0), code: grpc.status.INVALID_ARGUMENT, reason: "ERROR_REASON_INVALID_PARTITION" },
        { name: "existing topic", call: () => createTopic(id, "strict", 1), code: grpc.status.ALREADY_EXISTS, reason: "ERROR_REASON_TOPIC_EXISTS" },
        { name: "fetch beyond the high watermark", call: () => fetch(id, "strict", 0, 50), code: grpc.status.OUT_OF_RANGE, reason: "ERROR_REASON_OFFSET_OUT_OF_RANGE" },
        { name: "fetch with a negative offset", call: () => fetch(id, "strict", 0, -1), code: grpc.status.INVALID_ARGUMENT, reason: "ERROR_REASON_INVALID_FIELD" },
        { name: "fetch of an unknown topic", call: () => fetch(id, "nope", 0, 0), code: grpc.status.NOT_FOUND, reason: "ERROR_REASON_UNKNOWN_TOPIC" },
        { name: "describe an unknown topic", call: () => describeTopic(id, "nope"), code: grpc.status.NOT_FOUND, reason: "ERROR_REASON_UNKNOWN_TOPIC" },
      ];
      for (const c of cases) {
        const err = await expectError(c.call());
        assert.equal(err.code, c.code, `${c.name} via node ${id}: ${err.details}`);
        assert.equal(err.metadata.get("raftline-error-reason")[0], c.reason, `${c.name} via node ${id}`);
        assert.ok(err.details.length > 10, `${c.name} has a message`);
      }
    }
    const oor = await expectError(fetch(leader, "strict", 0, 50));
    assert.match(oor.details, /\[0, 0\]/, "OUT_OF_RANGE names the valid range");
    assert.deepEqual(await describeTopic(leader, "strict"), before, "nothing changed");
    const a = on(leader).admin;
    const topics = await unaryCall<ListTopicsResponse__Output>((opts, cb) => a.ListTopics({}, new grpc.Metadata(), opts, cb));
    assert.ok(!topics.topics.some((t) => t.name === "nope" || t.name === "zero" || t.name === "bad name!"));
  });

  test("a request over the server's size limit is refused with RESOURCE_EXHAUSTED", async () => {
    const err = await expectError(
      produce(leader, { batches: [{ topic: "strict", partition: 0, records: [{ value: Buffer.alloc(9 * 1024 * 1024) }] }] }),
    );
    assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED);
    const d = await describeTopic(leader, "strict");
    assert.equal(Number(d.partitions[0].highWatermark), 0);
  });

  test("TransferLeadership moves the leader to the named node", async () => {
    const target = followers()[0];
    const a = on(followers()[1]).admin;
    const res = await unaryCall<TransferLeadershipResponse__Output>((opts, cb) => a.TransferLeadership({ toNodeId: target }, new grpc.Metadata(), opts, cb));
    assert.equal(res.leaderId, target);
    leader = await cluster.waitForLeader(electionDeadlineMs);
    assert.equal(leader, target);
    await waitFor(async () => (await produce(followers()[0], { batches: [{ topic: "roundtrip", partition: 0, records: oneRecord }] })).results.length === 1, 10000, "produce after the transfer");
  });
});
