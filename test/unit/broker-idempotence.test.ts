// The idempotent producer's rules in the state machine, scenario by scenario: ids and epochs, duplicates
// answered with the original offsets, gaps and fencing refused without writing anything, the bounded
// memory of recent batches, expiry decided by the log's time, and the command codec that carries it all.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ApplyOutcome, BrokerState } from "../../src/broker/broker-state";
import { Command, CommandKind, ProduceCommandBatch, ProducerStamp, decodeCommand, encodeCommand } from "../../src/broker/commands";
import { BrokerError } from "../../src/broker/errors";
import { StickyPartitioner } from "../../src/broker/partitioner";
import { planProduce } from "../../src/broker/produce-plan";
import {
  defaultProducerExpiryMs,
  maxCachedBatchesPerPartition,
  maxProducerExpiriesPerTick,
  maxSequence,
} from "../../src/broker/producer-table";
import { encodeRecordBatch } from "../../src/broker/record-batch";
import type { AppendedBatch } from "../../src/broker/results";

const t0 = 1_700_000_000_000;
const hourMs = 3_600_000;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function blobOf(count: number, tag = "r"): Uint8Array {
  return encodeRecordBatch(
    Array.from({ length: count }, (_, i) => ({ value: bytes(`${tag}${i}`) })),
    t0,
  );
}

/** Applies encoded commands at increasing raft indexes, as the replica does. */
class Driver {
  index = 0;
  constructor(readonly state = new BrokerState()) {}

  run(command: Command): ApplyOutcome {
    return this.state.apply(++this.index, encodeCommand(command));
  }

  create(name: string, partitions = 1): void {
    ok(this.run({ kind: CommandKind.CreateTopic, nowMs: t0, name, partitions, retentionMs: 0, retentionBytes: 0, maxRecordBytes: 0 }));
  }

  init(producerId = 0, nowMs = t0): { producerId: number; epoch: number } {
    const outcome = ok(this.run({ kind: CommandKind.InitProducer, nowMs, producerId }));
    assert.equal(outcome.result.kind, "producerInitialized");
    if (outcome.result.kind !== "producerInitialized") throw new Error("unreachable");
    return { producerId: outcome.result.producerId, epoch: outcome.result.epoch };
  }

  /** One idempotent batch of `count` records. */
  send(producer: ProducerStamp, partition: number, count: number, nowMs = t0, topic = "t"): ApplyOutcome {
    return this.run({ kind: CommandKind.Produce, nowMs, batches: [{ topic, partition, blob: blobOf(count), producer }] });
  }

  tick(nowMs: number, producerExpiryMs?: number): ApplyOutcome {
    return this.run(producerExpiryMs === undefined ? { kind: CommandKind.Tick, nowMs } : { kind: CommandKind.Tick, nowMs, producerExpiryMs });
  }
}

function ok(outcome: ApplyOutcome): ApplyOutcome {
  if (outcome.result.kind === "error") assert.fail(`unexpected error: ${outcome.result.error.message}`);
  return outcome;
}

function produced(outcome: ApplyOutcome): AppendedBatch[] {
  ok(outcome);
  assert.equal(outcome.result.kind, "produced");
  return outcome.result.kind === "produced" ? outcome.result.batches : [];
}

/** The refusal's reason; asserts that it changed nothing. */
function refusal(outcome: ApplyOutcome): string {
  assert.equal(outcome.result.kind, "error");
  assert.deepEqual(outcome.mutations, [], "a refused command writes nothing");
  return outcome.result.kind === "error" ? `${outcome.result.error.code} ${outcome.result.error.reason}` : "";
}

const stamp = (p: { producerId: number; epoch: number }, baseSequence: number): ProducerStamp => ({ ...p, baseSequence });

test("InitProducer allocates ids from a replicated counter, and bumps the epoch of a known id", () => {
  const d = new Driver();
  const first = d.init();
  const second = d.init();
  assert.deepEqual(first, { producerId: 1, epoch: 0 });
  assert.deepEqual(second, { producerId: 2, epoch: 0 });
  assert.deepEqual(d.init(1), { producerId: 1, epoch: 1 });
  assert.deepEqual(d.init(1), { producerId: 1, epoch: 2 });
  assert.equal(refusal(d.run({ kind: CommandKind.InitProducer, nowMs: t0, producerId: 9 })), "FAILED_PRECONDITION ERROR_REASON_UNKNOWN_PRODUCER_ID");
  assert.deepEqual(d.init(), { producerId: 3, epoch: 0 }, "a refused id does not consume the counter");
});

test("a resent batch is a duplicate: nothing is written and the answer carries the original offsets", () => {
  const d = new Driver();
  d.create("t");
  const p = d.init();
  ok(d.run({ kind: CommandKind.Produce, nowMs: t0, batches: [{ topic: "t", partition: 0, blob: blobOf(2, "plain") }] }));
  const original = produced(d.send(stamp(p, 0), 0, 3));
  assert.deepEqual(original, [{ topic: "t", partition: 0, baseOffset: 2, recordCount: 3 }]);
  ok(d.send(stamp(p, 3), 0, 1));
  const hwBefore = d.state.partitionInfo("t", 0).highWatermark;

  const resent = d.send(stamp(p, 0), 0, 3, t0 + 1000);
  assert.deepEqual(produced(resent), [{ topic: "t", partition: 0, baseOffset: 2, recordCount: 3, duplicate: true }]);
  assert.deepEqual(resent.mutations, [], "a duplicate writes nothing, not even the producer's activity");
  assert.equal(d.state.partitionInfo("t", 0).highWatermark, hwBefore);
  assert.deepEqual(produced(d.send(stamp(p, 3), 0, 1)), [{ topic: "t", partition: 0, baseOffset: 5, recordCount: 1, duplicate: true }]);
  assert.equal(produced(d.send(stamp(p, 4), 0, 2))[0].baseOffset, 6, "the sequence continues after the duplicates");
});

test("the same sequence with another record count is not a duplicate but out of order", () => {
  const d = new Driver();
  d.create("t");
  const p = d.init();
  ok(d.send(stamp(p, 0), 0, 3));
  assert.equal(refusal(d.send(stamp(p, 0), 0, 2)), "FAILED_PRECONDITION ERROR_REASON_OUT_OF_ORDER_SEQUENCE");
});

test("a gap or a first batch not at 0 is OUT_OF_ORDER_SEQUENCE and writes nothing", () => {
  const d = new Driver();
  d.create("t", 2);
  const p = d.init();
  assert.equal(refusal(d.send(stamp(p, 1), 0, 1)), "FAILED_PRECONDITION ERROR_REASON_OUT_OF_ORDER_SEQUENCE");
  ok(d.send(stamp(p, 0), 0, 2));
  const gap = d.send(stamp(p, 3), 0, 1);
  assert.equal(refusal(gap), "FAILED_PRECONDITION ERROR_REASON_OUT_OF_ORDER_SEQUENCE");
  assert.match(gap.result.kind === "error" ? gap.result.error.message : "", /base_sequence 3 is out of order, expected 2/);
  assert.equal(d.state.partitionInfo("t", 0).highWatermark, 2);
  assert.equal(produced(d.send(stamp(p, 0), 1, 1))[0].baseOffset, 0, "sequences are per partition");
  ok(d.send(stamp(p, 2), 0, 1));
});

test("a stale epoch is fenced; the new epoch starts at sequence 0 on every partition", () => {
  const d = new Driver();
  d.create("t");
  const old = d.init();
  ok(d.send(stamp(old, 0), 0, 2));
  const next = d.init(old.producerId);
  assert.equal(next.epoch, old.epoch + 1);
  assert.equal(refusal(d.send(stamp(old, 2), 0, 1)), "FAILED_PRECONDITION ERROR_REASON_PRODUCER_FENCED");
  assert.equal(refusal(d.send(stamp(old, 0), 0, 2)), "FAILED_PRECONDITION ERROR_REASON_PRODUCER_FENCED", "even a duplicate");
  assert.equal(refusal(d.send(stamp(next, 2), 0, 1)), "FAILED_PRECONDITION ERROR_REASON_OUT_OF_ORDER_SEQUENCE");
  assert.equal(produced(d.send(stamp(next, 0), 0, 1))[0].baseOffset, 2);
  assert.equal(
    refusal(d.send({ ...next, epoch: next.epoch + 1, baseSequence: 1 }, 0, 1)),
    "INVALID_ARGUMENT ERROR_REASON_INVALID_FIELD",
    "an epoch never issued",
  );
  assert.equal(refusal(d.send({ producerId: 77, epoch: 0, baseSequence: 0 }, 0, 1)), "FAILED_PRECONDITION ERROR_REASON_UNKNOWN_PRODUCER_ID");
});

test(`only the last ${maxCachedBatchesPerPartition} batches per producer and partition are remembered`, () => {
  const d = new Driver();
  d.create("t");
  const p = d.init();
  for (let i = 0; i <= maxCachedBatchesPerPartition; i++) ok(d.send(stamp(p, i * 2), 0, 2));
  const cached = d.state.producerPartition(p.producerId, "t", 0);
  assert.equal(cached?.batches.length, maxCachedBatchesPerPartition);
  assert.deepEqual(cached?.batches.map((b) => b.baseSequence), [2, 4, 6, 8, 10]);
  assert.equal(refusal(d.send(stamp(p, 0), 0, 2)), "FAILED_PRECONDITION ERROR_REASON_OUT_OF_ORDER_SEQUENCE", "too old to recognize");
  assert.equal(produced(d.send(stamp(p, 2), 0, 2))[0].duplicate, true);
  assert.equal(produced(d.send(stamp(p, 10), 0, 2))[0].baseOffset, 10);
});

test("a request is all or nothing: one refused batch refuses every batch", () => {
  const d = new Driver();
  d.create("t", 2);
  const p = d.init();
  const batches: ProduceCommandBatch[] = [
    { topic: "t", partition: 0, blob: blobOf(1), producer: stamp(p, 0) },
    { topic: "t", partition: 1, blob: blobOf(1) },
    { topic: "t", partition: 1, blob: blobOf(1), producer: stamp(p, 5) },
  ];
  assert.equal(refusal(d.run({ kind: CommandKind.Produce, nowMs: t0, batches })), "FAILED_PRECONDITION ERROR_REASON_OUT_OF_ORDER_SEQUENCE");
  assert.equal(d.state.partitionInfo("t", 0).highWatermark, 0);
  assert.equal(d.state.producerPartition(p.producerId, "t", 0), undefined);
});

test("batches of one request continue each other's sequences, and a duplicate inside it gets its offset", () => {
  const d = new Driver();
  d.create("t");
  const p = d.init();
  ok(d.send(stamp(p, 0), 0, 2));
  const batches: ProduceCommandBatch[] = [
    { topic: "t", partition: 0, blob: blobOf(2), producer: stamp(p, 0) },
    { topic: "t", partition: 0, blob: blobOf(1) },
    { topic: "t", partition: 0, blob: blobOf(3), producer: stamp(p, 2) },
    { topic: "t", partition: 0, blob: blobOf(1), producer: stamp(p, 5) },
    { topic: "t", partition: 0, blob: blobOf(3), producer: stamp(p, 2) },
  ];
  const result = produced(d.run({ kind: CommandKind.Produce, nowMs: t0, batches }));
  assert.deepEqual(
    result.map((b) => [b.baseOffset, b.recordCount, b.duplicate ?? false]),
    [
      [0, 2, true],
      [2, 1, false],
      [3, 3, false],
      [6, 1, false],
      [3, 3, true],
    ],
  );
  assert.equal(d.state.partitionInfo("t", 0).highWatermark, 7);
});

test("sequences wrap to 0 after the int32 maximum", () => {
  const d = new Driver();
  d.create("t");
  const p = d.init();
  // Apply reads record counts from the batch header alone, so a header claiming many records stands
  // in for a long history: it takes sequences 0..maxSequence - 1.
  const claiming = (count: number): Uint8Array => {
    const blob = blobOf(1);
    new DataView(blob.buffer, blob.byteOffset).setUint32(10, count);
    return blob;
  };
  const send = (baseSequence: number, blob: Uint8Array): ApplyOutcome =>
    d.run({ kind: CommandKind.Produce, nowMs: t0, batches: [{ topic: "t", partition: 0, blob, producer: stamp(p, baseSequence) }] });
  ok(send(0, claiming(maxSequence)));
  const wrapping = produced(send(maxSequence, blobOf(3)));
  assert.equal(wrapping[0].baseOffset, maxSequence);
  assert.equal(refusal(send(maxSequence + 3, blobOf(1))), "INVALID_ARGUMENT ERROR_REASON_INVALID_FIELD", "beyond int32");
  assert.equal(refusal(send(3, blobOf(1))), "FAILED_PRECONDITION ERROR_REASON_OUT_OF_ORDER_SEQUENCE");
  assert.equal(produced(send(2, blobOf(1)))[0].baseOffset, maxSequence + 3, "maxSequence, 0, 1 taken: 2 is next");
  assert.equal(produced(send(maxSequence, blobOf(3)))[0].duplicate, true);
});

test("producers idle longer than the Tick's expiry are forgotten, by the log's time only", () => {
  const d = new Driver();
  d.create("t");
  const idle = d.init(0, t0);
  const busy = d.init(0, t0);
  ok(d.send(stamp(idle, 0), 0, 1, t0));
  ok(d.send(stamp(busy, 0), 0, 1, t0 + 2 * hourMs));
  const expiryMs = 3 * hourMs;

  assert.deepEqual(ok(d.tick(t0 + expiryMs, expiryMs)).mutations, [], "exactly the expiry is not yet past it");
  const tick = ok(d.tick(t0 + expiryMs + 1, expiryMs));
  assert.deepEqual(tick.mutations, [{ kind: "removeProducer", producerId: idle.producerId, partitions: [{ topicId: 1, partition: 0 }] }]);
  assert.equal(d.state.producer(idle.producerId), undefined);
  assert.equal(refusal(d.send(stamp(idle, 1), 0, 1, t0 + expiryMs + 2)), "FAILED_PRECONDITION ERROR_REASON_UNKNOWN_PRODUCER_ID");
  assert.equal(refusal(d.run({ kind: CommandKind.InitProducer, nowMs: t0, producerId: idle.producerId })), "FAILED_PRECONDITION ERROR_REASON_UNKNOWN_PRODUCER_ID");

  assert.equal(d.state.producer(busy.producerId)?.lastActiveMs, t0 + 2 * hourMs, "an append counts as activity");
  ok(d.tick(t0 + 5 * hourMs, expiryMs));
  assert.ok(d.state.producer(busy.producerId), "still within its expiry");
  ok(d.tick(t0 + 5 * hourMs + 1, expiryMs));
  assert.equal(d.state.producer(busy.producerId), undefined);
  assert.deepEqual(d.init(), { producerId: 3, epoch: 0 }, "ids are never reused");
});

test("a Tick without an expiry (written before the field existed) uses the default", () => {
  const d = new Driver();
  const p = d.init(0, t0);
  ok(d.tick(t0 + defaultProducerExpiryMs));
  assert.ok(d.state.producer(p.producerId));
  ok(d.tick(t0 + defaultProducerExpiryMs + 1));
  assert.equal(d.state.producer(p.producerId), undefined);
});

test("one Tick expires a bounded number of producers, lowest ids first", () => {
  const d = new Driver();
  const total = maxProducerExpiriesPerTick + 3;
  for (let i = 0; i < total; i++) d.init(0, t0);
  const first = ok(d.tick(t0 + 10, 1));
  assert.equal(first.mutations.length, maxProducerExpiriesPerTick);
  assert.ok(d.state.producer(total) && !d.state.producer(1));
  assert.equal(ok(d.tick(t0 + 20, 1)).mutations.length, 3);
  assert.equal(d.state.producer(total), undefined);
});

test("the leader's plan refuses an idempotent batch without a partition, or with out-of-range fields", () => {
  const d = new Driver();
  d.create("t", 3);
  const sticky = new StickyPartitioner();
  const records = [{ key: bytes("k"), value: bytes("v") }];
  const refuse = (batch: object): string => {
    try {
      planProduce(d.state, [{ topic: "t", records, ...batch }], t0, sticky);
    } catch (err) {
      assert.ok(err instanceof BrokerError);
      return `${err.code} ${err.reason}`;
    }
    return "planned";
  };
  assert.equal(refuse({ producerId: 1, producerEpoch: 0, baseSequence: 0 }), "INVALID_ARGUMENT ERROR_REASON_INVALID_FIELD");
  assert.equal(refuse({ partition: 0, producerId: 1, producerEpoch: -1, baseSequence: 0 }), "INVALID_ARGUMENT ERROR_REASON_INVALID_FIELD");
  assert.equal(refuse({ partition: 0, producerId: 1, producerEpoch: 0, baseSequence: -5 }), "INVALID_ARGUMENT ERROR_REASON_INVALID_FIELD");
  assert.equal(refuse({ partition: 0, producerId: -1, producerEpoch: 0, baseSequence: 0 }), "INVALID_ARGUMENT ERROR_REASON_INVALID_FIELD");
  assert.equal(refuse({ producerId: 0, producerEpoch: 4, baseSequence: 9 }), "planned", "producer_id 0 is a plain batch");
  const plan = planProduce(d.state, [{ topic: "t", partition: 2, records, producerId: 1, producerEpoch: 0, baseSequence: 4 }], t0, sticky);
  assert.deepEqual(plan.command.batches[0].producer, { producerId: 1, epoch: 0, baseSequence: 4 });
});

test("the codec carries stamps and the Tick's expiry, and reads the layouts from before them unchanged", () => {
  const blob = blobOf(2);
  const commands: Command[] = [
    { kind: CommandKind.InitProducer, nowMs: t0, producerId: 0 },
    { kind: CommandKind.InitProducer, nowMs: t0, producerId: 2 ** 40 },
    { kind: CommandKind.Tick, nowMs: t0, producerExpiryMs: defaultProducerExpiryMs },
    {
      kind: CommandKind.Produce,
      nowMs: t0,
      batches: [
        { topic: "a", partition: 1, blob },
        { topic: "b", partition: 0, blob, producer: { producerId: 12, epoch: 3, baseSequence: maxSequence } },
      ],
    },
  ];
  for (const command of commands) assert.deepEqual(decodeCommand(encodeCommand(command)), command);
  const plain = encodeCommand({ kind: CommandKind.Produce, nowMs: t0, batches: [{ topic: "a", partition: 1, blob }] });
  const stamped = encodeCommand({ kind: CommandKind.Produce, nowMs: t0, batches: [{ topic: "a", partition: 1, blob, producer: { producerId: 1, epoch: 0, baseSequence: 0 } }] });
  assert.deepEqual(stamped.subarray(0, plain.length), plain, "stamps only trail the layout plain produce always had");
  assert.equal(encodeCommand({ kind: CommandKind.Tick, nowMs: t0 }).length, 9, "a Tick without expiry is the old 9 bytes");
});
