// The idempotent producer of the SDK against an in-process broker that runs the real state machine
// (planProduce + apply), with faults injected between the wire and the log: answers lost after the
// append, streams broken, requests refused before the append. Whatever happens, every record must be in
// the log exactly once and in send order, and each send must learn the offsets its records got.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { BrokerState } from "../../src/broker/broker-state";
import { BrokerError, grpcStatusOf } from "../../src/broker/errors";
import { Command, CommandKind, encodeCommand } from "../../src/broker/commands";
import { StickyPartitioner, partitionForKey as brokerPartitionForKey } from "../../src/broker/partitioner";
import { planProduce, produceOutcome } from "../../src/broker/produce-plan";
import { decodeRecordBatch, encodeRecordBatch } from "../../src/broker/record-batch";
import type { ErrorStatus } from "../../src/generated/raftline/v1/ErrorStatus";
import type { InitProducerRequest__Output } from "../../src/generated/raftline/v1/InitProducerRequest";
import type { InitProducerResponse } from "../../src/generated/raftline/v1/InitProducerResponse";
import type { ProduceRequest__Output } from "../../src/generated/raftline/v1/ProduceRequest";
import type { ProduceResponse } from "../../src/generated/raftline/v1/ProduceResponse";
import { RaftlineClient, RaftlineError } from "../../src/client";
import { murmur2, partitionForKey } from "../../src/client/partition-chooser";
import { raftlineApi } from "../../src/client/proto";
import { waitFor } from "../support/wait";
import { murmur2 as brokerMurmur2 } from "../../src/broker/partitioner";

const t0 = 1_700_000_000_000;
const fastRetry = { initialBackoffMs: 1, maxBackoffMs: 10 };

/** What the fault hook may do to one produce request. */
type Fault = "refuse-unavailable" | "lose-answer" | "break-stream-after" | undefined;

interface StateBroker {
  address: string;
  /** Every produce request received, in order. */
  requests: ProduceRequest__Output[];
  initRequests: InitProducerRequest__Output[];
  fault: (request: ProduceRequest__Output, index: number) => Fault;
  /** Queues requests unanswered (and unapplied) while true. */
  hold: boolean;
  /** Handles the held requests, in arrival order. */
  release(): void;
  /** Most requests of one partition received and not yet answered, at any moment. */
  widestPerPartition: number;
  /** Applies a command directly (e.g. a Tick that expires producers). */
  run(command: Command): void;
  /** The values in the partition's log, in offset order. */
  values(topic: string, partition: number): string[];
  stop(): Promise<void>;
}

function errorStatusOf(err: unknown): ErrorStatus {
  if (err instanceof BrokerError) return { code: grpcStatusOf[err.code], reason: err.reason, message: err.message };
  return { code: grpc.status.INTERNAL, reason: "ERROR_REASON_UNSPECIFIED", message: String(err) };
}

/** One node that is its own leader, applying requests synchronously in arrival order. */
async function stateBroker(topics: Record<string, number>): Promise<StateBroker> {
  const state = new BrokerState();
  const blobs = new Map<string, { baseOffset: number; blob: Uint8Array }[]>();
  let index = 0;
  const apply = (command: Command): ReturnType<BrokerState["apply"]> => {
    const data = encodeCommand(command);
    const outcome = state.apply(++index, data);
    for (const m of outcome.mutations) {
      if (m.kind !== "putBatch") continue;
      const key = `${m.topicId}/${m.partition}`;
      const blob = data.subarray(m.entry.entryOffset, m.entry.entryOffset + m.entry.bytes);
      blobs.set(key, [...(blobs.get(key) ?? []), { baseOffset: m.entry.baseOffset, blob }]);
    }
    return outcome;
  };
  for (const [name, partitions] of Object.entries(topics)) {
    apply({ kind: CommandKind.CreateTopic, nowMs: t0, name, partitions, retentionMs: 0, retentionBytes: 0, maxRecordBytes: 16 });
  }
  const sticky = new StickyPartitioner();
  const produce = (request: ProduceRequest__Output): ProduceResponse => {
    try {
      const plan = planProduce(state, request.batches, t0, sticky);
      const { result } = apply(plan.command);
      if (result.kind === "error") throw result.error;
      if (result.kind !== "produced") throw new Error(`unexpected ${result.kind}`);
      return { correlationId: request.correlationId, results: produceOutcome(plan, result.batches) };
    } catch (err) {
      return { correlationId: request.correlationId, results: [], error: errorStatusOf(err) };
    }
  };

  const api = raftlineApi();
  const server = new grpc.Server();
  const held: (() => void)[] = [];
  const unanswered = new Map<number, number>();
  const broker: StateBroker = {
    address: "",
    requests: [],
    initRequests: [],
    fault: () => undefined,
    hold: false,
    release: () => held.splice(0).forEach((handle) => handle()),
    widestPerPartition: 0,
    run: (command) => void apply(command),
    values: (topic, partition) => {
      const id = state.requireTopic(topic).id;
      return (blobs.get(`${id}/${partition}`) ?? []).flatMap((b) => decodeRecordBatch(b.blob, b.baseOffset).map((r) => Buffer.from(r.value).toString()));
    },
    stop: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
  server.addService(api.Producer.service, {
    InitProducer: (call: grpc.ServerUnaryCall<InitProducerRequest__Output, InitProducerResponse>, done: grpc.sendUnaryData<InitProducerResponse>) => {
      broker.initRequests.push(call.request);
      const { result } = apply({ kind: CommandKind.InitProducer, nowMs: t0, producerId: call.request.producerId });
      if (result.kind === "producerInitialized") done(null, { producerId: result.producerId, producerEpoch: result.epoch });
      else if (result.kind === "error") done({ code: grpcStatusOf[result.error.code], details: result.error.message });
    },
    ProduceStream: (call: grpc.ServerDuplexStream<ProduceRequest__Output, ProduceResponse>) => {
      let broken = false;
      const handle = (request: ProduceRequest__Output, fault: Fault): void => {
        const partition = request.batches[0]?.partition ?? 0;
        unanswered.set(partition, (unanswered.get(partition) ?? 1) - 1);
        if (broken) return;
        if (fault === "refuse-unavailable") {
          call.write({
            correlationId: request.correlationId,
            results: [],
            error: { code: grpc.status.UNAVAILABLE, reason: "ERROR_REASON_NO_QUORUM", message: "injected: no quorum" },
          });
          return;
        }
        const response = produce(request);
        if (fault === "lose-answer") return;
        if (fault === "break-stream-after") {
          broken = true;
          call.emit("error", { code: grpc.status.UNAVAILABLE, details: "injected: stream broken after the append" });
          return;
        }
        call.write(response);
      };
      call.on("data", (request: ProduceRequest__Output) => {
        if (broken) return;
        broker.requests.push(request);
        const partition = request.batches[0]?.partition ?? 0;
        unanswered.set(partition, (unanswered.get(partition) ?? 0) + 1);
        broker.widestPerPartition = Math.max(broker.widestPerPartition, unanswered.get(partition) ?? 0);
        const fault = broker.fault(request, broker.requests.length - 1);
        if (broker.hold) held.push(() => handle(request, fault));
        else handle(request, fault);
      });
      call.on("end", () => call.end());
    },
  });
  server.addService(api.Admin.service, {
    DescribeCluster: (_call: grpc.ServerUnaryCall<unknown, unknown>, done: grpc.sendUnaryData<unknown>) =>
      done(null, { leaderId: 1, nodes: [{ id: 1, address: broker.address }], answeredBy: 1 }),
    DescribeTopic: (call: grpc.ServerUnaryCall<{ name: string }, unknown>, done: grpc.sendUnaryData<unknown>) => {
      try {
        const d = state.describeTopic(call.request.name);
        done(null, { topic: { name: d.topic.name, partitions: d.topic.partitions }, partitions: d.partitions.map((p) => ({ partition: p.partition })) });
      } catch (err) {
        const s = errorStatusOf(err);
        done({ code: s.code, details: s.message });
      }
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  broker.address = `127.0.0.1:${port}`;
  return broker;
}

async function setup(t: { after(fn: () => Promise<void>): void }, topics: Record<string, number> = { t: 1 }): Promise<{ broker: StateBroker; client: RaftlineClient }> {
  const broker = await stateBroker(topics);
  const client = new RaftlineClient({ brokers: [broker.address], retry: fastRetry });
  t.after(async () => {
    await client.close({ flush: false });
    await broker.stop();
  });
  return { broker, client };
}

const values = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

test("an idempotent producer initializes once and numbers each partition's records from 0", async (t) => {
  const { broker, client } = await setup(t, { t: 2 });
  const producer = client.producer({ idempotent: true, lingerMs: 0 });
  const first = await producer.send({ topic: "t", partition: 0, records: [{ value: "a" }, { value: "b" }] });
  await producer.send({ topic: "t", partition: 1, records: [{ value: "c" }] });
  const third = await producer.send({ topic: "t", partition: 0, records: [{ value: "d" }] });
  assert.deepEqual(first.map((r) => r.offset), [0, 1]);
  assert.equal(third[0].offset, 2);
  assert.equal(broker.initRequests.length, 1);
  assert.deepEqual(producer.producerIdentity, { producerId: 1, epoch: 0 });
  assert.deepEqual(
    broker.requests.map((r) => [r.batches[0].partition, r.batches[0].producerId, r.batches[0].producerEpoch, r.batches[0].baseSequence]),
    [
      [0, 1, 0, 0],
      [1, 1, 0, 0],
      [0, 1, 0, 2],
    ],
  );
});

test("answers lost after the append: the same batches are resent and appended once, in order", async (t) => {
  const { broker, client } = await setup(t);
  broker.fault = (_request, i) => (i === 3 ? "lose-answer" : i === 7 ? "break-stream-after" : undefined);
  const producer = client.producer({ idempotent: true, lingerMs: 0, maxBatchRecords: 2, requestTimeoutMs: 300 });
  const sends = Array.from({ length: 10 }, (_, i) => producer.send({ topic: "t", partition: 0, records: [{ value: `a${i}` }, { value: `b${i}` }] }));
  const placements = await Promise.all(sends);
  const expected = Array.from({ length: 10 }, (_, i) => [`a${i}`, `b${i}`]).flat();
  assert.deepEqual(broker.values("t", 0), expected, "every record once, in send order");
  assert.deepEqual(placements.flat().map((p) => p.offset), [...expected.keys()], "each send learned its original offsets");
  const resent = broker.requests.length - 10;
  assert.ok(resent > 0, "some batches were resent");
  const sequences = broker.requests.map((r) => r.batches[0].baseSequence);
  assert.deepEqual([...new Set(sequences)].sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => 2 * i), "a resend reuses its sequence");
});

test("a refusal before the append makes the batches behind it bounce; they are resent in order", async (t) => {
  const { broker, client } = await setup(t);
  let refused = false;
  broker.fault = (request) => {
    if (!refused && request.batches[0].baseSequence === 1) {
      refused = true;
      return "refuse-unavailable";
    }
    return undefined;
  };
  const producer = client.producer({ idempotent: true, lingerMs: 0, maxBatchRecords: 1 });
  const placements = await producer.send({ topic: "t", partition: 0, records: values("r", 8).map((value) => ({ value })) });
  assert.deepEqual(broker.values("t", 0), values("r", 8));
  assert.deepEqual(placements.map((p) => p.offset), [...Array(8).keys()]);
  const bounced = broker.requests.filter((r) => r.batches[0].baseSequence > 1).length;
  assert.ok(bounced > 6, `batches behind the refused one were sent again (${bounced} requests)`);
});

test("at most maxInFlightPerPartition requests per partition are unacknowledged", async (t) => {
  const { broker, client } = await setup(t, { t: 2 });
  broker.hold = true;
  const producer = client.producer({ idempotent: true, lingerMs: 0, maxBatchRecords: 1, maxInFlightPerPartition: 2, maxInFlight: 8 });
  const sends = [0, 1].map((partition) => producer.send({ topic: "t", partition, records: values("x", 6).map((value) => ({ value })) }));
  await waitFor(() => broker.requests.length === 4, 5000, "two requests per partition in flight");
  assert.deepEqual(
    broker.requests.map((r) => r.batches[0].partition),
    [0, 0, 1, 1],
  );
  broker.hold = false;
  broker.release();
  await Promise.all(sends);
  assert.deepEqual(broker.values("t", 0), values("x", 6));
  assert.deepEqual(broker.values("t", 1), values("x", 6));
  assert.equal(broker.widestPerPartition, 2);
  assert.throws(() => client.producer({ idempotent: true, maxInFlightPerPartition: 6 }), RangeError);
  assert.throws(() => client.producer({ idempotent: true, acks: "leader" }), RangeError);
  assert.throws(() => client.producer({ producerId: 3 }), RangeError);
});

test("a second instance taking over the producer id fences the first", async (t) => {
  const { broker, client } = await setup(t);
  const first = client.producer({ idempotent: true, lingerMs: 0 });
  await first.send({ topic: "t", partition: 0, records: [{ value: "one" }] });
  const id = first.producerIdentity?.producerId ?? 0;
  const second = client.producer({ idempotent: true, lingerMs: 0, producerId: id });
  await second.send({ topic: "t", partition: 0, records: [{ value: "two" }] });
  assert.deepEqual(second.producerIdentity, { producerId: id, epoch: 1 });
  const isFenced = (err: RaftlineError): boolean => err instanceof RaftlineError && err.reason === "ERROR_REASON_PRODUCER_FENCED";
  await assert.rejects(first.send({ topic: "t", partition: 0, records: [{ value: "stale" }] }), isFenced);
  await assert.rejects(first.send({ topic: "t", partition: 0, records: [{ value: "later" }] }), isFenced, "a fenced producer stays stopped");
  assert.deepEqual(broker.values("t", 0), ["one", "two"]);
});

test("a sequence the broker holds for other records stops the producer (SEQUENCE_REUSED)", async (t) => {
  const { broker, client } = await setup(t);
  const producer = client.producer({ idempotent: true, lingerMs: 0 });
  await producer.send({ topic: "t", partition: 0, records: [{ value: "one" }] });
  const identity = producer.producerIdentity ?? { producerId: 0, epoch: 0 };
  // Another writer with this producer's id and epoch took the next sequence: the lanes no longer agree with the broker.
  const blob = encodeRecordBatch([{ value: Buffer.from("other") }], t0);
  broker.run({ kind: CommandKind.Produce, nowMs: t0, batches: [{ topic: "t", partition: 0, blob, producer: { ...identity, baseSequence: 1 } }] });
  const isReused = (err: RaftlineError): boolean => err instanceof RaftlineError && err.reason === "ERROR_REASON_SEQUENCE_REUSED";
  await assert.rejects(producer.send({ topic: "t", partition: 0, records: [{ value: "two" }] }), isReused);
  await assert.rejects(producer.send({ topic: "t", partition: 0, records: [{ value: "three" }] }), isReused, "the producer stays stopped");
  assert.deepEqual(broker.values("t", 0), ["one", "other"]);
});

test("a producer id expired while idle is replaced, and sequences start again at 0", async (t) => {
  const { broker, client } = await setup(t);
  const producer = client.producer({ idempotent: true, lingerMs: 0 });
  await producer.send({ topic: "t", partition: 0, records: [{ value: "before" }] });
  broker.run({ kind: CommandKind.Tick, nowMs: t0 + 1000, producerExpiryMs: 1 });
  const [after] = await producer.send({ topic: "t", partition: 0, records: [{ value: "after" }] });
  assert.equal(after.offset, 1);
  assert.deepEqual(producer.producerIdentity, { producerId: 2, epoch: 0 });
  const last = broker.requests[broker.requests.length - 1].batches[0];
  assert.deepEqual([last.producerId, last.baseSequence], [2, 0]);
  assert.deepEqual(broker.values("t", 0), ["before", "after"]);
});

test("a batch refused for good fails its send; the batches behind it take over its sequences", async (t) => {
  const { broker, client } = await setup(t);
  const producer = client.producer({ idempotent: true, lingerMs: 0, maxBatchRecords: 1 });
  const sends = ["a", "b", "this value is far too large", "c", "d"].map((value) => producer.send({ topic: "t", partition: 0, records: [{ value }] }));
  const outcomes = await Promise.allSettled(sends);
  assert.deepEqual(
    outcomes.map((o) => (o.status === "fulfilled" ? o.value[0].offset : (o.reason as RaftlineError).reason)),
    [0, 1, "ERROR_REASON_RECORD_TOO_LARGE", 2, 3],
  );
  assert.deepEqual(broker.values("t", 0), ["a", "b", "c", "d"]);
  const more = await producer.send({ topic: "t", partition: 0, records: [{ value: "e" }] });
  assert.equal(more[0].offset, 4);
});

test("sends without a partition are placed by key hash like the broker's, keyless ones together", async (t) => {
  const { broker, client } = await setup(t, { t: 5 });
  const producer = client.producer({ idempotent: true, lingerMs: 0 });
  const keys = values("key-", 20);
  const placed = await producer.send({ topic: "t", records: keys.map((key) => ({ key, value: key })) });
  placed.forEach((p, i) => assert.equal(p.partition, brokerPartitionForKey(Buffer.from(keys[i]), 5), `record ${i}`));
  for (let p = 0; p < 5; p++) {
    assert.deepEqual(broker.values("t", p), keys.filter((k) => brokerPartitionForKey(Buffer.from(k), 5) === p), `partition ${p} in send order`);
  }
  const keyless = await producer.send({ topic: "t", records: [{ value: "x" }, { value: "y" }] });
  assert.equal(keyless[0].partition, keyless[1].partition);
  const next = await producer.send({ topic: "t", records: [{ value: "z" }] });
  assert.notEqual(next[0].partition, keyless[0].partition, "round-robin per send");
  await assert.rejects(producer.send({ topic: "nope", records: [{ value: "x" }] }), (err: RaftlineError) => err.codeName === "NOT_FOUND");
});

test("the SDK's murmur2 is the broker's, bit for bit", () => {
  let seed = 7;
  for (let n = 0; n < 500; n++) {
    const data = new Uint8Array(n % 37);
    for (let i = 0; i < data.length; i++) data[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    assert.equal(murmur2(data), brokerMurmur2(data));
    assert.equal(partitionForKey(data, 7), brokerPartitionForKey(data, 7));
  }
});
