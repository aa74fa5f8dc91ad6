// The SDK against fake brokers in this process: enough of the contract to check batching, pipelining
// bounds, leader redirects, retries and resubscription without a real cluster.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import type { ConsumedRecord } from "../../src/generated/raftline/v1/ConsumedRecord";
import type { ErrorStatus } from "../../src/generated/raftline/v1/ErrorStatus";
import type { ProduceRequest__Output } from "../../src/generated/raftline/v1/ProduceRequest";
import type { ProduceResponse } from "../../src/generated/raftline/v1/ProduceResponse";
import type { SubscribeRequest__Output } from "../../src/generated/raftline/v1/SubscribeRequest";
import type { SubscribeResponse } from "../../src/generated/raftline/v1/SubscribeResponse";
import { RaftlineClient, RaftlineError } from "../../src/client";
import { raftlineApi } from "../../src/client/proto";
import { waitFor } from "../support/wait";

interface FakeBroker {
  address: string;
  requests: ProduceRequest__Output[];
  subscribes: SubscribeRequest__Output[];
  /** Answers one produce request; undefined = append it. */
  refuse: (request: ProduceRequest__Output) => ErrorStatus | undefined;
  /** Delays answers while true. */
  hold: boolean;
  outstandingMax: number;
  leaderAddress: string;
  log: Map<string, ConsumedRecord[]>;
  /** Ends a subscription with UNAVAILABLE after this many pushes. */
  subscribeFailAfter: number;
  /** Sends the answers held back while `hold` was true. */
  release(): void;
  stop(): Promise<void>;
}

async function fakeBroker(): Promise<FakeBroker> {
  const api = raftlineApi();
  const server = new grpc.Server();
  let outstanding = 0;
  const held: (() => void)[] = [];
  const broker: FakeBroker = {
    address: "",
    requests: [],
    subscribes: [],
    refuse: () => undefined,
    hold: false,
    outstandingMax: 0,
    leaderAddress: "",
    log: new Map(),
    subscribeFailAfter: Infinity,
    release: () => held.splice(0).forEach((answer) => answer()),
    stop: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
  const append = (request: ProduceRequest__Output): ProduceResponse => ({
    correlationId: request.correlationId,
    results: request.batches.map((b) => {
      const partition = b.partition ?? 0;
      const key = `${b.topic}/${partition}`;
      const log = broker.log.get(key) ?? [];
      broker.log.set(key, log);
      const baseOffset = log.length;
      for (const r of b.records) log.push({ offset: log.length, timestampMs: 1, value: r.value, headers: r.headers, key: r.key });
      return { topic: b.topic, appends: [{ partition, baseOffset, recordCount: b.records.length }] };
    }),
  });
  server.addService(api.Producer.service, {
    ProduceStream: (call: grpc.ServerDuplexStream<ProduceRequest__Output, ProduceResponse>) => {
      call.on("data", (request: ProduceRequest__Output) => {
        broker.requests.push(request);
        outstanding++;
        broker.outstandingMax = Math.max(broker.outstandingMax, outstanding);
        const answer = (): void => {
          outstanding--;
          const error = broker.refuse(request);
          call.write(error ? { correlationId: request.correlationId, error } : append(request));
        };
        if (broker.hold) held.push(answer);
        else answer();
      });
      call.on("end", () => call.end());
    },
  });
  server.addService(api.Admin.service, {
    DescribeCluster: (_call: grpc.ServerUnaryCall<unknown, unknown>, done: grpc.sendUnaryData<unknown>) =>
      done(null, broker.leaderAddress ? { leaderId: 2, nodes: [{ id: 2, address: broker.leaderAddress }], answeredBy: 1 } : { leaderId: 0 }),
  });
  server.addService(api.Consumer.service, {
    Subscribe: (call: grpc.ServerWritableStream<SubscribeRequest__Output, SubscribeResponse>) => {
      broker.subscribes.push(call.request);
      const log = broker.log.get(`${call.request.topic}/${call.request.partition}`) ?? [];
      let next = call.request.start === "offset" ? Number(call.request.offset) : 0;
      let pushes = 0;
      while (next < log.length && pushes < broker.subscribeFailAfter) {
        call.write({ records: log.slice(next, next + 2), highWatermark: log.length });
        next = Math.min(log.length, next + 2);
        pushes++;
      }
      if (pushes >= broker.subscribeFailAfter) {
        call.emit("error", { code: grpc.status.UNAVAILABLE, details: "node stopping" });
      }
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  broker.address = `127.0.0.1:${port}`;
  return broker;
}

test("sends within the linger time travel as one request and get dense per-record offsets", async (t) => {
  const broker = await fakeBroker();
  const client = new RaftlineClient({ brokers: [broker.address] });
  t.after(async () => {
    await client.close();
    await broker.stop();
  });
  const producer = client.producer({ lingerMs: 20 });
  const [a, b] = await Promise.all([
    producer.send({ topic: "t", partition: 0, records: [{ value: "a0" }, { value: "a1" }] }),
    producer.send({ topic: "t", partition: 0, records: [{ value: "b0" }] }),
  ]);
  assert.deepEqual(a, [
    { topic: "t", partition: 0, offset: 0 },
    { topic: "t", partition: 0, offset: 1 },
  ]);
  assert.deepEqual(b, [{ topic: "t", partition: 0, offset: 2 }]);
  assert.equal(broker.requests.length, 1);
  assert.equal(broker.requests[0].batches[0].records.length, 3);
  assert.equal(broker.requests[0].acks, "ACKS_QUORUM");
});

test("a large send is split by maxBatchRecords and in-flight requests stay within maxInFlight", async (t) => {
  const broker = await fakeBroker();
  const client = new RaftlineClient({ brokers: [broker.address] });
  t.after(async () => {
    await client.close();
    await broker.stop();
  });
  broker.hold = true;
  const producer = client.producer({ lingerMs: 0, maxBatchRecords: 10, maxInFlight: 3 });
  const sent = producer.send({ topic: "t", partition: 1, records: Array.from({ length: 95 }, (_, i) => ({ value: `r${i}` })) });
  await waitFor(() => broker.requests.length === 3, 5000, "three requests in flight");
  assert.equal(broker.outstandingMax, 3);
  broker.hold = false;
  broker.release();
  const placements = await sent;
  assert.deepEqual(placements.map((p) => p.offset), [...Array(95).keys()]);
  assert.equal(broker.requests.length, 10);
  assert.ok(broker.outstandingMax <= 3);
});

test("NOT_LEADER with a hint sends the batch straight to the named leader", async (t) => {
  const follower = await fakeBroker();
  const leader = await fakeBroker();
  const client = new RaftlineClient({ brokers: [follower.address] });
  t.after(async () => {
    await client.close();
    await follower.stop();
    await leader.stop();
  });
  follower.refuse = () => ({
    code: grpc.status.UNAVAILABLE,
    reason: "ERROR_REASON_NOT_LEADER",
    message: "not the leader",
    leaderId: 2,
    leaderAddress: leader.address,
  });
  const started = Date.now();
  const placements = await client.producer({ lingerMs: 0 }).send({ topic: "t", partition: 0, records: [{ value: "x" }] });
  assert.deepEqual(placements, [{ topic: "t", partition: 0, offset: 0 }]);
  assert.equal(follower.requests.length, 1);
  assert.equal(leader.requests.length, 1);
  assert.ok(Date.now() - started < 1000, "no backoff before following the hint");
});

test("the producer asks who leads before its first send", async (t) => {
  const follower = await fakeBroker();
  const leader = await fakeBroker();
  follower.leaderAddress = leader.address;
  const client = new RaftlineClient({ brokers: [follower.address] });
  t.after(async () => {
    await client.close();
    await follower.stop();
    await leader.stop();
  });
  await client.producer({ lingerMs: 0 }).send({ topic: "t", records: [{ value: "x" }] });
  assert.equal(follower.requests.length, 0);
  assert.equal(leader.requests.length, 1);
});

test("a retriable refusal is retried; a final one fails the send with its reason", async (t) => {
  const broker = await fakeBroker();
  const client = new RaftlineClient({ brokers: [broker.address], retry: { initialBackoffMs: 1, maxBackoffMs: 5 } });
  t.after(async () => {
    await client.close();
    await broker.stop();
  });
  let refusals = 2;
  broker.refuse = (request) => {
    if (request.batches[0].topic === "missing") {
      return { code: grpc.status.NOT_FOUND, reason: "ERROR_REASON_UNKNOWN_TOPIC", message: 'unknown topic "missing"' };
    }
    if (refusals-- > 0) return { code: grpc.status.UNAVAILABLE, reason: "ERROR_REASON_NO_QUORUM", message: "no quorum" };
    return undefined;
  };
  const producer = client.producer({ lingerMs: 0 });
  assert.deepEqual(await producer.send({ topic: "t", partition: 0, records: [{ value: "x" }] }), [{ topic: "t", partition: 0, offset: 0 }]);
  assert.equal(broker.requests.length, 3);
  await assert.rejects(producer.send({ topic: "missing", partition: 0, records: [{ value: "x" }] }), (err: RaftlineError) => {
    assert.ok(err instanceof RaftlineError);
    assert.equal(err.codeName, "NOT_FOUND");
    assert.equal(err.reason, "ERROR_REASON_UNKNOWN_TOPIC");
    assert.equal(err.retriable, false);
    return true;
  });
  await assert.rejects(producer.send({ topic: "t", records: [] }), (err: RaftlineError) => err.reason === "ERROR_REASON_EMPTY_BATCH");
});

test("an unreachable bootstrap broker is passed over for the next one", async (t) => {
  const broker = await fakeBroker();
  const client = new RaftlineClient({ brokers: ["127.0.0.1:1", broker.address], retry: { initialBackoffMs: 1, maxBackoffMs: 5 } });
  t.after(async () => {
    await client.close();
    await broker.stop();
  });
  const placements = await client.producer({ lingerMs: 0 }).send({ topic: "t", partition: 0, records: [{ value: "x" }] });
  assert.equal(placements[0].offset, 0);
});

test("a subscription resumes after a retriable failure from the next offset, without gaps or repeats", async (t) => {
  const broker = await fakeBroker();
  const client = new RaftlineClient({ brokers: [broker.address], retry: { initialBackoffMs: 1, maxBackoffMs: 5 } });
  t.after(async () => {
    await client.close();
    await broker.stop();
  });
  await client.producer({ lingerMs: 0 }).send({ topic: "t", partition: 0, records: Array.from({ length: 9 }, (_, i) => ({ value: `v${i}` })) });
  broker.subscribeFailAfter = 2;
  const subscription = client.consumer().subscribe({ topic: "t", partition: 0, from: "earliest" });
  const seen: number[] = [];
  for await (const record of subscription) {
    assert.equal(record.value.toString(), `v${record.offset}`);
    seen.push(record.offset);
    if (seen.length === 9) break;
  }
  assert.deepEqual(seen, [...Array(9).keys()]);
  assert.equal(broker.subscribes[0].start, "position");
  assert.equal(broker.subscribes[0].position, "START_POSITION_EARLIEST");
  assert.deepEqual(broker.subscribes.slice(1).map((s) => s.offset), [4, 8]);
});

test("closing without flushing fails unanswered sends with CANCELLED at once", async (t) => {
  const broker = await fakeBroker();
  const client = new RaftlineClient({ brokers: [broker.address] });
  t.after(() => broker.stop());
  broker.hold = true;
  const producer = client.producer({ lingerMs: 0, maxBatchRecords: 1, maxInFlight: 1 });
  const sends = [0, 1, 2].map((i) => producer.send({ topic: "t", partition: 0, records: [{ value: `r${i}` }] }));
  await waitFor(() => broker.requests.length === 1, 5000, "the first request in flight");
  await client.close({ flush: false });
  const outcomes = await Promise.allSettled(sends);
  for (const outcome of outcomes) {
    assert.equal(outcome.status, "rejected");
    assert.equal((outcome as PromiseRejectedResult).reason.codeName, "CANCELLED");
  }
  await assert.rejects(producer.send({ topic: "t", records: [{ value: "late" }] }), (err: RaftlineError) => err.codeName === "CANCELLED");
});

test("the plain producer tells a send that was certainly not appended from one of unknown outcome", async (t) => {
  const broker = await fakeBroker();
  const client = new RaftlineClient({ brokers: [broker.address], retry: { initialBackoffMs: 1, maxBackoffMs: 5, maxAttempts: 2 } });
  t.after(async () => {
    await client.close();
    await broker.stop();
  });
  const unknown: ErrorStatus = { code: grpc.status.UNAVAILABLE, reason: "ERROR_REASON_OUTCOME_UNKNOWN", message: "forward broke" };
  const notLeader: ErrorStatus = { code: grpc.status.UNAVAILABLE, reason: "ERROR_REASON_NO_QUORUM", message: "no quorum" };
  const script: Record<string, ErrorStatus[]> = { certain: [notLeader, notLeader], unknown: [unknown, notLeader] };
  broker.refuse = (request) => script[request.batches[0].topic].shift();
  const producer = client.producer({ lingerMs: 0 });
  await assert.rejects(producer.send({ topic: "certain", partition: 0, records: [{ value: "x" }] }), (err: RaftlineError) => {
    assert.equal(err.reason, "ERROR_REASON_NO_QUORUM");
    assert.equal(err.outcomeUnknown, false, "every attempt was certainly refused");
    return true;
  });
  await assert.rejects(producer.send({ topic: "unknown", partition: 0, records: [{ value: "x" }] }), (err: RaftlineError) => {
    assert.equal(err.reason, "ERROR_REASON_NO_QUORUM", "the last attempt's reason");
    assert.equal(err.outcomeUnknown, true, "an earlier attempt's outcome stays unknown");
    return true;
  });
});
