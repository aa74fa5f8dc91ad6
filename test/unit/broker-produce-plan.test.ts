import { test } from "node:test";
import assert from "node:assert/strict";
import { BrokerState } from "../../src/broker/broker-state";
import { CommandKind, encodeCommand } from "../../src/broker/commands";
import { BrokerError } from "../../src/broker/errors";
import { StickyPartitioner, partitionForKey } from "../../src/broker/partitioner";
import { planProduce, produceOutcome } from "../../src/broker/produce-plan";
import { decodeRecordBatch } from "../../src/broker/record-batch";

const nowMs = 1_700_000_000_000;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function stateWith(topics: [string, number, number?][]): BrokerState {
  const state = new BrokerState();
  topics.forEach(([name, partitions, maxRecordBytes], i) => {
    state.apply(
      i + 1,
      encodeCommand({ kind: CommandKind.CreateTopic, nowMs, name, partitions, retentionMs: 0, retentionBytes: 0, maxRecordBytes: maxRecordBytes ?? 0 }),
    );
  });
  return state;
}

const reason = (expected: string) => (err: unknown) => err instanceof BrokerError && err.reason === expected;

test("a batch with a partition becomes one command batch holding every record", () => {
  const state = stateWith([["t", 4]]);
  const plan = planProduce(state, [{ topic: "t", partition: 2, records: [{ value: bytes("a") }, { key: bytes("k"), value: bytes("b") }] }], nowMs, new StickyPartitioner());
  assert.equal(plan.command.batches.length, 1);
  assert.equal(plan.command.batches[0].partition, 2);
  assert.deepEqual(plan.batches, [{ topic: "t", appends: [{ partition: 2, recordCount: 2, recordIndices: [] }] }]);
  assert.equal(decodeRecordBatch(plan.command.batches[0].blob, 0).length, 2);
});

test("without a partition, keys pick partitions by murmur2 and keyless records stick together", () => {
  const state = stateWith([["t", 8]]);
  const sticky = new StickyPartitioner();
  const records = [{ key: bytes("21"), value: bytes("0") }, { value: bytes("1") }, { key: bytes("foobar"), value: bytes("2") }, { value: bytes("3") }];
  const plan = planProduce(state, [{ topic: "t", records }], nowMs, sticky);
  const keyed21 = partitionForKey(bytes("21"), 8);
  const keyedFoo = partitionForKey(bytes("foobar"), 8);
  const byPartition = new Map(plan.batches[0].appends.map((a) => [a.partition, a.recordIndices]));
  assert.deepEqual(byPartition.get(keyed21)?.includes(0), true);
  assert.deepEqual(byPartition.get(keyedFoo)?.includes(2), true);
  assert.deepEqual(byPartition.get(0)?.filter((i) => i === 1 || i === 3), [1, 3], "keyless records go to sticky partition 0");
  // The next keyless batch moves on to the next partition, whole.
  const next = planProduce(state, [{ topic: "t", records: [{ value: bytes("x") }, { value: bytes("y") }] }], nowMs, sticky);
  assert.deepEqual(next.batches[0].appends, [{ partition: 1, recordCount: 2, recordIndices: [] }]);
});

test("the plan's offsets come from the applied result, or -1 before apply", () => {
  const state = stateWith([["t", 2]]);
  const plan = planProduce(
    state,
    [
      { topic: "t", partition: 1, records: [{ value: bytes("a") }] },
      { topic: "t", partition: null, records: [{ value: bytes("b") }, { value: bytes("c") }] },
    ],
    nowMs,
    new StickyPartitioner(),
  );
  const outcome = state.apply(10, encodeCommand(plan.command));
  assert.equal(outcome.result.kind, "produced");
  if (outcome.result.kind !== "produced") return;
  assert.deepEqual(produceOutcome(plan, outcome.result.batches), [
    { topic: "t", appends: [{ partition: 1, baseOffset: 0, recordCount: 1, recordIndices: [], brokerTimestampMs: nowMs }] },
    { topic: "t", appends: [{ partition: 0, baseOffset: 0, recordCount: 2, recordIndices: [], brokerTimestampMs: nowMs }] },
  ]);
  assert.equal(produceOutcome(plan, null)[0].appends[0].baseOffset, -1);
});

test("bad requests are refused before proposing, naming the batch", () => {
  const state = stateWith([["t", 2, 4]]);
  const sticky = new StickyPartitioner();
  const one = [{ value: bytes("v") }];
  assert.throws(() => planProduce(state, [], nowMs, sticky), reason("ERROR_REASON_EMPTY_BATCH"));
  assert.throws(() => planProduce(state, [{ topic: "t", records: [] }], nowMs, sticky), reason("ERROR_REASON_EMPTY_BATCH"));
  assert.throws(() => planProduce(state, [{ topic: "u", records: one }], nowMs, sticky), reason("ERROR_REASON_UNKNOWN_TOPIC"));
  assert.throws(() => planProduce(state, [{ topic: "bad/name", records: one }], nowMs, sticky), reason("ERROR_REASON_INVALID_TOPIC_NAME"));
  assert.throws(() => planProduce(state, [{ topic: "t", partition: 2, records: one }], nowMs, sticky), reason("ERROR_REASON_INVALID_PARTITION"));
  assert.throws(
    () => planProduce(state, [{ topic: "t", records: one }, { topic: "t", records: [{ key: bytes("k"), value: bytes("1234") }] }], nowMs, sticky),
    (err: unknown) => reason("ERROR_REASON_RECORD_TOO_LARGE")(err) && (err as Error).message.startsWith("batches[1]: "),
  );
  assert.throws(() => planProduce(state, [{ topic: "t", records: [{ value: bytes("v"), timestampMs: -5 }] }], nowMs, sticky), reason("ERROR_REASON_INVALID_FIELD"));
});
