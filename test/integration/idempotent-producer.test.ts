// The idempotent producer on a real three-node cluster: the raw contract (InitProducer, a batch sent
// twice answered with the same offset and duplicate = true, other records under its sequence, gaps and
// fencing refused with their reasons), and the SDK's producer writing while the leader is SIGKILLed, after which every record
// exists exactly once, in order, on every node.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { Cluster, startCluster } from "../support/cluster";
import { RawStubs, expectError, rawStubs, unaryCall } from "../support/raw-stubs";
import { waitFor } from "../support/wait";
import type { FetchResponse__Output } from "../../src/generated/raftline/v1/FetchResponse";
import type { InitProducerResponse__Output } from "../../src/generated/raftline/v1/InitProducerResponse";
import type { ProduceBatch } from "../../src/generated/raftline/v1/ProduceBatch";
import type { ProduceResponse__Output } from "../../src/generated/raftline/v1/ProduceResponse";
import type { RecordMetadata } from "../../src/client";

const electionDeadlineMs = 15000;

class Stubs {
  private readonly byNode = new Map<number, RawStubs>();
  constructor(private readonly cluster: Cluster) {}

  on(id: number): RawStubs {
    let s = this.byNode.get(id);
    if (!s) {
      s = rawStubs(this.cluster.node(id).clientAddress);
      this.byNode.set(id, s);
    }
    return s;
  }

  initProducer(id: number, producerId = 0): Promise<InitProducerResponse__Output> {
    const p = this.on(id).producer;
    return unaryCall((opts, cb) => p.InitProducer({ producerId }, new grpc.Metadata(), opts, cb));
  }

  produce(id: number, batches: ProduceBatch[], timeoutMs = 5000): Promise<ProduceResponse__Output> {
    const p = this.on(id).producer;
    return unaryCall((opts, cb) => p.Produce({ batches }, new grpc.Metadata(), opts, cb), timeoutMs);
  }

  async createTopic(id: number, name: string, partitions: number): Promise<void> {
    const a = this.on(id).admin;
    await unaryCall((opts, cb) => a.CreateTopic({ name, partitions }, new grpc.Metadata(), opts, cb));
  }

  /** Every value in the partition as this node has applied it, checking offsets are dense. */
  async values(id: number, topic: string, partition: number): Promise<string[]> {
    const c = this.on(id).consumer;
    const out: string[] = [];
    for (;;) {
      const res = await unaryCall<FetchResponse__Output>((opts, cb) => c.Fetch({ topic, partition, offset: out.length }, new grpc.Metadata(), opts, cb));
      for (const r of res.records) {
        assert.equal(Number(r.offset), out.length, `node ${id} ${topic}/${partition}: dense offsets`);
        out.push(r.value.toString());
      }
      if (res.records.length === 0 || out.length >= Number(res.highWatermark)) return out;
    }
  }

  close(): void {
    for (const s of this.byNode.values()) s.close();
    this.byNode.clear();
  }
}

function batch(topic: string, partition: number, values: string[], stamp: { producerId: number; producerEpoch: number; baseSequence: number }): ProduceBatch {
  return { topic, partition, records: values.map((v) => ({ value: Buffer.from(v) })), ...stamp };
}

function reasonOf(err: grpc.ServiceError): string {
  return String(err.metadata.get("raftline-error-reason")[0]);
}

describe("the raw contract", () => {
  let cluster: Cluster;
  let stubs: Stubs;
  let leader: number;
  let follower: number;

  before(async () => {
    cluster = await startCluster({ cleanupAfter: false });
    stubs = new Stubs(cluster);
    leader = await cluster.waitForLeader(electionDeadlineMs);
    follower = cluster.nodes.map((n) => n.id).find((id) => id !== leader) ?? 0;
    await stubs.createTopic(leader, "raw", 2);
  });

  after(async () => {
    stubs.close();
    await cluster.cleanup();
  });

  test("the same batch sent twice gets the same offset, the second time with duplicate = true", async () => {
    const p = await stubs.initProducer(follower);
    assert.ok(p.producerId > 0);
    assert.equal(p.producerEpoch, 0);
    const first = await stubs.produce(leader, [batch("raw", 0, ["a", "b"], { ...p, baseSequence: 0 })]);
    const again = await stubs.produce(follower, [batch("raw", 0, ["a", "b"], { ...p, baseSequence: 0 })]);
    const [a1, a2] = [first.results[0].appends[0], again.results[0].appends[0]];
    assert.equal(a1.duplicate, false);
    assert.equal(a2.duplicate, true);
    assert.equal(Number(a2.baseOffset), Number(a1.baseOffset));
    const next = await stubs.produce(leader, [batch("raw", 0, ["c"], { ...p, baseSequence: 2 })]);
    assert.equal(Number(next.results[0].appends[0].baseOffset), Number(a1.baseOffset) + 2);
    // Other records under an appended batch's sequence and count: not a resend, so not a duplicate.
    const reused = await expectError(stubs.produce(follower, [batch("raw", 0, ["d"], { ...p, baseSequence: 2 })]));
    assert.equal(reused.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(reasonOf(reused), "ERROR_REASON_SEQUENCE_REUSED");
    assert.match(reused.details, /base_sequence 2 was already appended at offset \d+ with other records/);
    for (const node of cluster.nodes) {
      await waitFor(async () => (await stubs.values(node.id, "raw", 0)).length === 3, 10000, `node ${node.id} to apply`);
      assert.deepEqual(await stubs.values(node.id, "raw", 0), ["a", "b", "c"]);
    }
  });

  test("a gap, a stale epoch, an unknown id and a missing partition are refused with their reasons", async () => {
    const p = await stubs.initProducer(leader);
    await stubs.produce(leader, [batch("raw", 1, ["x"], { ...p, baseSequence: 0 })]);
    const gap = await expectError(stubs.produce(leader, [batch("raw", 1, ["y"], { ...p, baseSequence: 5 })]));
    assert.equal(gap.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(reasonOf(gap), "ERROR_REASON_OUT_OF_ORDER_SEQUENCE");
    assert.match(gap.details, /expected 1/);

    const bumped = await stubs.initProducer(follower, p.producerId);
    assert.deepEqual([bumped.producerId, bumped.producerEpoch], [p.producerId, p.producerEpoch + 1]);
    const fenced = await expectError(stubs.produce(leader, [batch("raw", 1, ["y"], { ...p, baseSequence: 1 })]));
    assert.equal(fenced.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(reasonOf(fenced), "ERROR_REASON_PRODUCER_FENCED");
    await stubs.produce(leader, [batch("raw", 1, ["y"], { ...bumped, baseSequence: 0 })]);

    const unknown = await expectError(stubs.produce(leader, [batch("raw", 1, ["z"], { producerId: 1_000_000, producerEpoch: 0, baseSequence: 0 })]));
    assert.equal(reasonOf(unknown), "ERROR_REASON_UNKNOWN_PRODUCER_ID");
    const unknownInit = await expectError(stubs.initProducer(leader, 1_000_000));
    assert.equal(unknownInit.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(reasonOf(unknownInit), "ERROR_REASON_UNKNOWN_PRODUCER_ID");

    const unplaced = await expectError(stubs.produce(leader, [{ topic: "raw", records: [{ value: Buffer.from("z") }], ...bumped, baseSequence: 1 }]));
    assert.equal(unplaced.code, grpc.status.INVALID_ARGUMENT);
    assert.deepEqual(await stubs.values(leader, "raw", 1), ["x", "y"], "nothing refused was written");
  });
});

test("SIGKILL the leader while an idempotent producer writes: every record exists exactly once, in order", async () => {
  const cluster = await startCluster({ cleanupAfter: false });
  const stubs = new Stubs(cluster);
  try {
    let leader = await cluster.waitForLeader(electionDeadlineMs);
    const partitions = 3;
    await stubs.createTopic(leader, "once", partitions);

    // A batch appended before the kill, to resend by hand to the next leader.
    const raw = await stubs.initProducer(leader);
    const before = await stubs.produce(leader, [batch("once", 0, ["raw-0", "raw-1"], { ...raw, baseSequence: 0 })]);
    const rawOffset = Number(before.results[0].appends[0].baseOffset);

    const client = cluster.client({ retry: { initialBackoffMs: 20, maxBackoffMs: 500, maxRetryTimeMs: 30000, maxAttempts: 100 } });
    const producer = client.producer({ idempotent: true, lingerMs: 0, maxBatchRecords: 4, requestTimeoutMs: 3000 });
    const total = 3000;
    const sendsMax = 50;
    const placed: Promise<RecordMetadata[]>[] = [];
    let acknowledged = 0;
    const killed = leader;
    // The kill lands while requests are in flight: the loop keeps sending meanwhile.
    const killing = waitFor(() => acknowledged >= total / 3, 30000, "a third of the records acknowledged").then(() => cluster.kill(killed, "SIGKILL"));
    for (let i = 0; i < total; i++) {
      const sent = producer.send({ topic: "once", records: [{ key: `k${i % 11}`, value: `v${i}` }] });
      placed.push(sent);
      void sent.then(() => acknowledged++, () => undefined);
      if (placed.length - acknowledged >= sendsMax) await waitFor(() => placed.length - acknowledged < sendsMax, 60000, "room in the send window");
    }
    await killing;
    const results = await Promise.all(placed);
    leader = await cluster.waitForLeader(electionDeadlineMs);
    assert.notEqual(leader, killed);

    const resent = await stubs.produce(leader, [batch("once", 0, ["raw-0", "raw-1"], { ...raw, baseSequence: 0 })]);
    assert.equal(resent.results[0].appends[0].duplicate, true, "the batch from before the kill is recognized");
    assert.equal(Number(resent.results[0].appends[0].baseOffset), rawOffset);

    const expected: string[][] = Array.from({ length: partitions }, () => []);
    expected[0].push("raw-0", "raw-1");
    results.forEach((r, i) => expected[r[0].partition].push(`v${i}`));
    for (const id of cluster.liveIds()) {
      for (let p = 0; p < partitions; p++) {
        await waitFor(async () => (await stubs.values(id, "once", p)).length >= expected[p].length, 15000, `node ${id} partition ${p} to apply`);
        const values = await stubs.values(id, "once", p);
        assert.deepEqual(values, expected[p], `node ${id} partition ${p}: each record once, in send order`);
        results.forEach((r, i) => {
          if (r[0].partition === p) assert.equal(values[r[0].offset], `v${i}`, `the offset answered for v${i} holds it`);
        });
      }
    }
  } finally {
    stubs.close();
    await cluster.cleanup();
  }
});

test("the serve flag sets producer expiry: an idle producer is forgotten, and the SDK moves to a new id", async () => {
  const cluster = await startCluster({
    cleanupAfter: false,
    extraArgs: ["--retention-check-ms", "100"],
    env: { RAFTLINE_PRODUCER_EXPIRY_MS: "400" },
  });
  const stubs = new Stubs(cluster);
  try {
    const leader = await cluster.waitForLeader(electionDeadlineMs);
    await stubs.createTopic(leader, "idle", 1);
    const producer = cluster.client().producer({ idempotent: true, lingerMs: 0 });
    await producer.send({ topic: "idle", partition: 0, records: [{ value: "first" }] });
    const before = producer.producerIdentity;
    assert.ok(before);
    const raw = await stubs.initProducer(leader);
    await stubs.produce(leader, [batch("idle", 0, ["raw"], { ...raw, baseSequence: 0 })]);
    // Expiry is decided by the leader's Ticks, carried in the log: wait for it to be applied. The probe
    // resends the batch already appended, which writes nothing and does not count as activity.
    await waitFor(
      async () => {
        const probe = await stubs.produce(leader, [batch("idle", 0, ["raw"], { ...raw, baseSequence: 0 })]).then(
          (res) => res,
          (err: grpc.ServiceError) => err,
        );
        if ("results" in probe) {
          assert.equal(probe.results[0].appends[0].duplicate, true);
          return false;
        }
        return reasonOf(probe) === "ERROR_REASON_UNKNOWN_PRODUCER_ID";
      },
      10000,
      "the idle raw producer to expire",
    );
    const [after] = await producer.send({ topic: "idle", partition: 0, records: [{ value: "second" }] });
    assert.notEqual(producer.producerIdentity?.producerId, before.producerId, "a new id after the old one expired");
    assert.deepEqual(await stubs.values(leader, "idle", 0), ["first", "raw", "second"]);
    assert.equal(after.offset, 2);
  } finally {
    stubs.close();
    await cluster.cleanup();
  }
});
