// The contract defects a generated client ran into, each checked through the leader and a follower:
// ProduceStream order, bounded error messages, out-of-range enum values, undecodable requests, safe
// CreateTopic retries and paged lists.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { Cluster, startCluster } from "../support/cluster";
import { CallFailure, RawBytesClient, failureOf } from "../support/contract-calls";
import { RawStubs, expectError, rawStubs, unaryCall } from "../support/raw-stubs";
import { waitFor } from "../support/wait";
import { publicApi } from "../../src/server/public-proto";
import type { ProduceRequest } from "../../src/generated/raftline/v1/ProduceRequest";
import type { ProduceResponse__Output } from "../../src/generated/raftline/v1/ProduceResponse";
import type { FetchResponse__Output } from "../../src/generated/raftline/v1/FetchResponse";
import type { CreateTopicRequest } from "../../src/generated/raftline/v1/CreateTopicRequest";
import type { CreateTopicResponse__Output } from "../../src/generated/raftline/v1/CreateTopicResponse";
import type { DescribeTopicResponse__Output } from "../../src/generated/raftline/v1/DescribeTopicResponse";
import type { ListTopicsResponse__Output } from "../../src/generated/raftline/v1/ListTopicsResponse";

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
const follower = (): number => cluster.nodes.map((n) => n.id).find((id) => id !== leader) as number;
const via = (): { name: string; id: () => number }[] => [
  { name: "leader", id: () => leader },
  { name: "follower", id: follower },
];

function createTopic(id: number, req: CreateTopicRequest): Promise<CreateTopicResponse__Output> {
  const a = on(id).admin;
  return unaryCall((opts, cb) => a.CreateTopic(req, new grpc.Metadata(), opts, cb));
}
function produce(id: number, req: ProduceRequest): Promise<ProduceResponse__Output> {
  const p = on(id).producer;
  return unaryCall((opts, cb) => p.Produce(req, new grpc.Metadata(), opts, cb));
}
function highWatermark(id: number, topic: string): Promise<number> {
  const a = on(id).admin;
  return unaryCall<DescribeTopicResponse__Output>((opts, cb) => a.DescribeTopic({ name: topic }, new grpc.Metadata(), opts, cb)).then((d) =>
    Number(d.partitions[0].highWatermark),
  );
}
async function fetchAll(id: number, topic: string, count: number): Promise<string[]> {
  const c = on(id).consumer;
  const values: string[] = [];
  while (values.length < count) {
    const res = await unaryCall<FetchResponse__Output>((opts, cb) =>
      c.Fetch({ topic, partition: 0, offset: values.length, maxWaitMs: 1000, minBytes: 1 }, new grpc.Metadata(), opts, cb),
    );
    values.push(...res.records.map((r) => r.value.toString("utf8")));
  }
  return values;
}
async function refused(promise: Promise<unknown>): Promise<CallFailure> {
  return failureOf(await expectError(promise));
}

before(async () => {
  cluster = await startCluster({ nodes: 3, cleanupAfter: false });
  leader = await cluster.waitForLeader(15000);
});

after(async () => {
  for (const s of stubs.values()) s.close();
  await cluster?.cleanup();
});

describe("1. ProduceStream keeps its order", () => {
  for (const v of via()) {
    test(`80 pipelined requests of 1-3 KB records through the ${v.name} are appended in stream order`, async () => {
      const topic = `order-${v.name}`;
      await createTopic(leader, { name: topic, partitions: 1 });
      const requests = 80;
      const stream = on(v.id()).producer.ProduceStream();
      const answers = new Map<number, ProduceResponse__Output>();
      const done = new Promise<void>((resolve, reject) => {
        stream.on("data", (res: ProduceResponse__Output) => {
          answers.set(Number(res.correlationId), res);
          if (answers.size === requests) resolve();
        });
        stream.on("error", reject);
      });
      for (let i = 0; i < requests; i++) {
        const size = 1024 + ((i * 977) % 2048);
        const value = Buffer.alloc(size, "x");
        value.write(`${i}:`, 0, "utf8");
        stream.write({ correlationId: i + 1, batches: [{ topic, partition: 0, records: [{ value }] }] });
      }
      await done;
      stream.end();
      for (let i = 0; i < requests; i++) {
        const res = answers.get(i + 1);
        assert.ok(res && !res.error, `request ${i + 1} answered: ${res?.error?.message}`);
        assert.equal(Number(res.results[0].appends[0].baseOffset), i, `request ${i + 1} is at offset ${i}`);
      }
      const values = await fetchAll(v.id(), topic, requests);
      assert.deepEqual(
        values.map((s) => Number(s.split(":")[0])),
        Array.from({ length: requests }, (_, i) => i),
      );
    });
  }
});

describe("2. error messages stay small whatever the input", () => {
  for (const v of via()) {
    test(`a 10 KiB topic name through the ${v.name}: INVALID_ARGUMENT with a short message`, async () => {
      const name = "n".repeat(10 * 1024);
      const cases: [string, () => Promise<unknown>][] = [
        ["CreateTopic", () => createTopic(v.id(), { name, partitions: 1 })],
        ["Produce", () => produce(v.id(), { batches: [{ topic: name, records: [{ value: Buffer.from("x") }] }] })],
        ["DescribeTopic", () => unaryCall((o, cb) => on(v.id()).admin.DescribeTopic({ name }, new grpc.Metadata(), o, cb))],
      ];
      for (const [rpc, call] of cases) {
        const f = await refused(call());
        assert.ok(f.code === grpc.status.INVALID_ARGUMENT || f.code === grpc.status.NOT_FOUND, `${rpc}: ${f.code} ${f.details.slice(0, 80)}`);
        assert.notEqual(f.reason, "", `${rpc} carries a reason`);
        assert.ok(Buffer.byteLength(f.details) <= 512, `${rpc}: message of ${Buffer.byteLength(f.details)} bytes`);
        assert.ok(f.trailerBytes < 1024, `${rpc}: ${f.trailerBytes} bytes of status and trailers`);
      }
    });
  }
});

describe("3. out-of-range enum values are refused", () => {
  for (const v of via()) {
    test(`acks 3, 7, -1 and 2^31-1, and an unknown start position, through the ${v.name}`, async () => {
      const topic = `enums-${v.name}`;
      await createTopic(leader, { name: topic, partitions: 1 });
      for (const acks of [3, 7, -1, 2 ** 31 - 1]) {
        const f = await refused(produce(v.id(), { acks: acks as unknown as "ACKS_QUORUM", batches: [{ topic, partition: 0, records: [{ value: Buffer.from("x") }] }] }));
        assert.equal(f.code, grpc.status.INVALID_ARGUMENT, `acks ${acks}: ${f.details}`);
        assert.equal(f.reason, "ERROR_REASON_INVALID_FIELD");
        assert.match(f.details, /acks/);
      }
      // In a stream the refusal is the request's own answer.
      const stream = on(v.id()).producer.ProduceStream();
      const answer = new Promise<ProduceResponse__Output>((resolve) => stream.on("data", resolve));
      stream.write({ correlationId: 9, acks: 5 as unknown as "ACKS_QUORUM", batches: [{ topic, partition: 0, records: [{ value: Buffer.from("x") }] }] });
      const res = await answer;
      stream.end();
      assert.equal(res.error?.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(res.error?.reason, "ERROR_REASON_INVALID_FIELD");
      assert.equal(await highWatermark(leader, topic), 0, "nothing was appended");

      const sub = on(v.id()).consumer.Subscribe({ topic, partition: 0, position: 7 as unknown as "START_POSITION_EARLIEST" });
      const f = await new Promise<CallFailure>((resolve) => sub.on("error", (err) => resolve(failureOf(err))));
      assert.equal(f.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(f.reason, "ERROR_REASON_INVALID_FIELD");
    });
  }
});

describe("4. undecodable requests are the caller's error", () => {
  for (const v of via()) {
    test(`ff ff ff to every unary rpc through the ${v.name}: INVALID_ARGUMENT + MALFORMED_REQUEST`, async () => {
      const raw = new RawBytesClient(cluster.node(v.id()).clientAddress);
      try {
        const api = publicApi();
        for (const service of [api.Producer.service, api.Consumer.service, api.Admin.service]) {
          for (const method of Object.values(service)) {
            const garbage = Buffer.from([0xff, 0xff, 0xff]);
            const call = method.requestStream
              ? raw.bidi(method.path, [garbage], 5000)
              : method.responseStream
                ? raw.serverStream(method.path, garbage, 5000, 1)
                : raw.unary(method.path, garbage, 5000);
            const f = await refused(call);
            assert.equal(f.code, grpc.status.INVALID_ARGUMENT, `${method.path}: ${f.code} ${f.details}`);
            assert.equal(f.reason, "ERROR_REASON_MALFORMED_REQUEST", method.path);
          }
        }
      } finally {
        raw.close();
      }
    });
  }
});

describe("6. CreateTopic retries safely with a request id", () => {
  for (const v of via()) {
    test(`through the ${v.name}: same id and config answers the topic; another id, none, or another config is ALREADY_EXISTS`, async () => {
      const name = `retried-${v.name}`;
      const first = await createTopic(v.id(), { name, partitions: 3, retentionMs: 60000, requestId: "req-1" });
      const again = await createTopic(v.id(), { name, partitions: 3, retentionMs: 60000, requestId: "req-1" });
      assert.deepEqual(again, first, "a retry answers exactly as the first create");
      const otherNode = await createTopic(v.id() === leader ? follower() : leader, { name, partitions: 3, retentionMs: 60000, requestId: "req-1" });
      assert.deepEqual(otherNode, first, "through any node");
      for (const req of [
        { name, partitions: 3, retentionMs: 60000, requestId: "req-2" },
        { name, partitions: 3, retentionMs: 60000 },
        { name, partitions: 4, retentionMs: 60000, requestId: "req-1" },
      ]) {
        const f = await refused(createTopic(v.id(), req));
        assert.equal(f.code, grpc.status.ALREADY_EXISTS, JSON.stringify(req));
        assert.equal(f.reason, "ERROR_REASON_TOPIC_EXISTS");
      }
      const f = await refused(createTopic(v.id(), { name: `${name}-x`, partitions: 1, requestId: "r".repeat(129) }));
      assert.equal(f.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(f.reason, "ERROR_REASON_INVALID_FIELD");
    });
  }

  test("the request id survives a restart (it is in the replicated state)", async () => {
    const name = "retried-restart";
    const first = await createTopic(leader, { name, partitions: 1, requestId: "req-restart" });
    const id = follower();
    await cluster.restart(id);
    leader = await cluster.waitForLeader(15000);
    // Ask the restarted node, forwarding nothing: its own state must know the id.
    const again = await waitFor(() => createTopic(id, { name, partitions: 1, requestId: "req-restart" }), 15000, "the retried create");
    assert.deepEqual(again, first);
  });
});

describe("8. ListTopics pages", () => {
  for (const v of via()) {
    test(`through the ${v.name}: pages of page_size concatenate to every topic, in order; bad paging is INVALID_FIELD`, async () => {
      const prefix = `paged-${v.name}-`;
      for (let i = 0; i < 5; i++) await createTopic(leader, { name: `${prefix}${i}`, partitions: 1 });
      const a = on(v.id()).admin;
      const list = (pageSize: number, pageToken: string): Promise<ListTopicsResponse__Output> =>
        unaryCall((o, cb) => a.ListTopics({ pageSize, pageToken }, new grpc.Metadata(), o, cb));
      const everything = await list(1000, "");
      assert.equal(everything.nextPageToken, "", "one page holds them all");
      const names: string[] = [];
      let token = "";
      let pages = 0;
      do {
        const page = await list(2, token);
        assert.ok(page.topics.length <= 2);
        names.push(...page.topics.map((t) => t.name));
        token = page.nextPageToken;
        pages++;
      } while (token !== "" && pages < 1000);
      assert.deepEqual(names, everything.topics.map((t) => t.name));
      assert.deepEqual([...names].sort(), names, "ordered by name");
      assert.ok(names.filter((n) => n.startsWith(prefix)).length === 5);
      for (const [size, tok] of [
        [-1, ""],
        [10, "not-a-token"],
      ] as const) {
        const f = await refused(list(size, tok));
        assert.equal(f.code, grpc.status.INVALID_ARGUMENT);
        assert.equal(f.reason, "ERROR_REASON_INVALID_FIELD");
      }
    });
  }
});

describe("5. refusals name their reason", () => {
  for (const v of via()) {
    test(`TransferLeadership to a node that does not exist, through the ${v.name}: NOT_FOUND + UNKNOWN_NODE`, async () => {
      const a = on(v.id()).admin;
      const f = await refused(unaryCall((o, cb) => a.TransferLeadership({ toNodeId: 99 }, new grpc.Metadata(), o, cb)));
      assert.equal(f.code, grpc.status.NOT_FOUND, f.details);
      assert.equal(f.reason, "ERROR_REASON_UNKNOWN_NODE");
    });
  }
});
