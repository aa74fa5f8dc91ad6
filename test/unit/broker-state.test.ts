import { test } from "node:test";
import assert from "node:assert/strict";
import { ApplyOutcome, BrokerState } from "../../src/broker/broker-state";
import { Command, CommandKind, encodeCommand } from "../../src/broker/commands";
import { DecodedRecord, decodeRecordBatch, encodeRecordBatch } from "../../src/broker/record-batch";
import { BrokerMutation, TopicRecord } from "../../src/broker/mutations";
import { BatchIndexEntry } from "../../src/broker/partition-log";
import { maxBatchDeletesPerTick } from "../../src/broker/retention";
import { defaultMaxRecordBytes } from "../../src/broker/validation";

const t0 = 1_700_000_000_000;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Drives a BrokerState the way the replica does: encoded commands at increasing raft indexes. */
/** Mutations with removed batches named by base offset, as a reader of the tests thinks of them. */
function byBaseOffsets(mutations: ApplyOutcome["mutations"]): unknown[] {
  return mutations.map((m) => (m.kind === "deleteBatches" ? { kind: m.kind, topicId: m.topicId, partition: m.partition, baseOffsets: m.batches.map((b) => b.baseOffset) } : m));
}

class Driver {
  index = 0;
  /** The command bytes applied at each index: where stored batches live. */
  readonly entries = new Map<number, Uint8Array>();
  constructor(readonly state = new BrokerState()) {}

  run(command: Command): ApplyOutcome {
    const data = encodeCommand(command);
    this.entries.set(++this.index, data);
    return this.state.apply(this.index, data);
  }

  create(name: string, partitions = 1, extra: Partial<{ retentionMs: number; retentionBytes: number; maxRecordBytes: number }> = {}, nowMs = t0): ApplyOutcome {
    return this.run({
      kind: CommandKind.CreateTopic,
      nowMs,
      name,
      partitions,
      retentionMs: extra.retentionMs ?? 0,
      retentionBytes: extra.retentionBytes ?? 0,
      maxRecordBytes: extra.maxRecordBytes ?? 0,
    });
  }

  produce(topic: string, partition: number, values: string[], nowMs = t0, timestampMs = 0): ApplyOutcome {
    const blob = encodeRecordBatch(
      values.map((v) => ({ value: bytes(v), timestampMs })),
      nowMs,
    );
    return this.run({ kind: CommandKind.Produce, nowMs, batches: [{ topic, partition, blob }] });
  }

  tick(nowMs: number): ApplyOutcome {
    return this.run({ kind: CommandKind.Tick, nowMs });
  }
}

function ok(outcome: ApplyOutcome): ApplyOutcome {
  if (outcome.result.kind === "error") assert.fail(`unexpected error: ${outcome.result.error.message}`);
  return outcome;
}

function errorCode(outcome: ApplyOutcome): string {
  assert.equal(outcome.result.kind, "error");
  assert.deepEqual(outcome.mutations, [], "an error changes nothing");
  return outcome.result.kind === "error" ? outcome.result.error.code : "";
}

/** Everything observable through the queries, to compare states. */
function observe(state: BrokerState): unknown {
  return state.listTopics().map((t) => state.describeTopic(t.name));
}

test("create, list, describe and delete a topic", () => {
  const d = new Driver();
  const created = ok(d.create("orders", 3, { retentionMs: 60_000 }));
  assert.equal(created.result.kind, "topicCreated");
  assert.deepEqual(
    created.mutations.map((m) => m.kind),
    ["putTopic", "putNextTopicId"],
  );
  ok(d.create("audit"));
  assert.deepEqual(
    d.state.listTopics().map((t) => t.name),
    ["audit", "orders"],
  );
  const orders = d.state.describeTopic("orders");
  assert.equal(orders.topic.partitions, 3);
  assert.equal(orders.topic.maxRecordBytes, defaultMaxRecordBytes);
  assert.equal(orders.topic.retentionMs, 60_000);
  assert.equal(orders.topic.createdAtMs, t0);
  assert.deepEqual(
    orders.partitions.map((p) => [p.partition, p.startOffset, p.highWatermark, p.bytes]),
    [
      [0, 0, 0, 0],
      [1, 0, 0, 0],
      [2, 0, 0, 0],
    ],
  );
  const deleted = ok(d.run({ kind: CommandKind.DeleteTopic, nowMs: t0, name: "orders" }));
  assert.equal(deleted.result.kind, "topicDeleted");
  assert.deepEqual(deleted.mutations, [{ kind: "removeTopic", topicId: orders.topic.id }], "no data: removed at once");
  assert.equal(d.state.topic("orders"), undefined);
});

test("invalid topic commands answer the right code and change nothing", () => {
  const d = new Driver();
  ok(d.create("orders"));
  const before = observe(d.state);
  assert.equal(errorCode(d.create("orders")), "ALREADY_EXISTS");
  assert.equal(errorCode(d.create("bad name")), "INVALID_ARGUMENT");
  assert.equal(errorCode(d.create("..")), "INVALID_ARGUMENT");
  assert.equal(errorCode(d.create("x".repeat(250))), "INVALID_ARGUMENT");
  assert.equal(errorCode(d.create("zero", 0)), "INVALID_ARGUMENT");
  assert.equal(errorCode(d.create("many", 1001)), "INVALID_ARGUMENT");
  assert.equal(errorCode(d.create("huge", 1, { maxRecordBytes: 64 * 1024 * 1024 })), "INVALID_ARGUMENT");
  assert.equal(errorCode(d.run({ kind: CommandKind.DeleteTopic, nowMs: t0, name: "nope" })), "NOT_FOUND");
  assert.deepEqual(observe(d.state), before);
  ok(d.create("x".repeat(249)));
  ok(d.create("a.b_c-D9"));
});

test("produce assigns dense offsets per partition, in command order", () => {
  const d = new Driver();
  ok(d.create("orders", 2));
  const first = ok(d.produce("orders", 0, ["a", "b", "c"]));
  assert.deepEqual(first.result, {
    kind: "produced",
    batches: [{ topic: "orders", partition: 0, baseOffset: 0, recordCount: 3 }],
  });
  ok(d.produce("orders", 1, ["x"]));
  const blob = encodeRecordBatch([{ value: bytes("d") }, { value: bytes("e") }], t0);
  const multi = ok(
    d.run({
      kind: CommandKind.Produce,
      nowMs: t0,
      batches: [
        { topic: "orders", partition: 0, blob },
        { topic: "orders", partition: 1, blob },
        { topic: "orders", partition: 0, blob },
      ],
    }),
  );
  assert.equal(multi.result.kind, "produced");
  if (multi.result.kind !== "produced") return;
  assert.deepEqual(
    multi.result.batches.map((b) => [b.partition, b.baseOffset]),
    [
      [0, 3],
      [1, 1],
      [0, 5],
    ],
  );
  const put = multi.mutations.filter((m): m is Extract<BrokerMutation, { kind: "putBatch" }> => m.kind === "putBatch");
  assert.deepEqual(
    put.map((m) => [m.partition, m.entry.baseOffset, m.entry.lastOffset, m.entry.bytes]),
    [
      [0, 3, 4, blob.length],
      [1, 1, 2, blob.length],
      [0, 5, 6, blob.length],
    ],
  );
  const p0 = d.state.partitionInfo("orders", 0);
  assert.deepEqual([p0.startOffset, p0.highWatermark, p0.batchCount], [0, 7, 3]);
});

test("an invalid produce changes nothing, even when only its last batch is bad", () => {
  const d = new Driver();
  ok(d.create("orders", 2, { maxRecordBytes: 10 }));
  ok(d.produce("orders", 0, ["a"]));
  const before = observe(d.state);
  const good = encodeRecordBatch([{ value: bytes("fine") }], t0);
  const produce = (batches: { topic: string; partition: number; blob: Uint8Array }[]): ApplyOutcome =>
    d.run({ kind: CommandKind.Produce, nowMs: t0, batches });
  assert.equal(errorCode(produce([{ topic: "orders", partition: 0, blob: good }, { topic: "nope", partition: 0, blob: good }])), "NOT_FOUND");
  assert.equal(errorCode(produce([{ topic: "orders", partition: 0, blob: good }, { topic: "orders", partition: 2, blob: good }])), "INVALID_ARGUMENT");
  assert.equal(errorCode(produce([])), "INVALID_ARGUMENT");
  const big = encodeRecordBatch([{ value: bytes("x".repeat(11)) }], t0);
  assert.equal(errorCode(produce([{ topic: "orders", partition: 1, blob: big }])), "RESOURCE_EXHAUSTED");
  assert.equal(errorCode(produce([{ topic: "orders", partition: 1, blob: good.subarray(0, 20) }])), "DATA_LOSS");
  assert.deepEqual(observe(d.state), before);
});

test("a re-created topic gets a new id and starts empty at offset 0", () => {
  const d = new Driver();
  ok(d.create("orders"));
  ok(d.produce("orders", 0, ["a", "b"]));
  const oldId = d.state.requireTopic("orders").id;
  const deleted = ok(d.run({ kind: CommandKind.DeleteTopic, nowMs: t0, name: "orders" }));
  assert.deepEqual(
    deleted.mutations.map((m) => m.kind),
    ["putTopic"],
    "data remains: the record is kept, marked deleted",
  );
  assert.equal(errorCode(d.produce("orders", 0, ["c"])), "NOT_FOUND");
  ok(d.create("orders"));
  const fresh = d.state.describeTopic("orders");
  assert.notEqual(fresh.topic.id, oldId);
  assert.equal(fresh.partitions[0].highWatermark, 0);
  assert.equal(ok(d.produce("orders", 0, ["c"])).result.kind, "produced");
  // The next tick removes the old topic's data, then its record.
  const tick = ok(d.tick(t0));
  assert.deepEqual(byBaseOffsets(tick.mutations), [
    { kind: "deleteBatches", topicId: oldId, partition: 0, baseOffsets: [0] },
    { kind: "removeTopic", topicId: oldId },
  ]);
});

test("retention by age deletes whole old batches, never the newest, and moves the start offset", () => {
  const d = new Driver();
  ok(d.create("logs", 1, { retentionMs: 1000 }));
  ok(d.produce("logs", 0, ["a", "b"], t0, t0));
  ok(d.produce("logs", 0, ["c"], t0, t0 + 500));
  ok(d.produce("logs", 0, ["d"], t0, t0 + 2000));
  assert.equal(ok(d.tick(t0 + 1000)).mutations.length, 0, "nothing is older than 1000 ms yet");
  const tick = ok(d.tick(t0 + 1501));
  assert.deepEqual(tick.result, {
    kind: "ticked",
    deletedBatches: 2,
    startOffsetMoves: [{ topic: "logs", partition: 0, startOffset: 3 }],
  });
  assert.deepEqual(byBaseOffsets(tick.mutations), [{ kind: "deleteBatches", topicId: 1, partition: 0, baseOffsets: [0, 2] }]);
  ok(d.tick(t0 + 1_000_000));
  const p = d.state.partitionInfo("logs", 0);
  assert.deepEqual([p.startOffset, p.highWatermark, p.batchCount], [3, 4, 1], "the newest batch stays");
});

test("retention by bytes deletes the oldest batches until the partition fits", () => {
  const d = new Driver();
  const blobBytes = encodeRecordBatch([{ value: bytes("0123456789") }], t0).length;
  ok(d.create("logs", 2, { retentionBytes: blobBytes * 2 }));
  for (let i = 0; i < 5; i++) ok(d.produce("logs", 0, ["0123456789"]));
  ok(d.produce("logs", 1, ["0123456789"]));
  const tick = ok(d.tick(t0));
  assert.deepEqual(byBaseOffsets(tick.mutations), [{ kind: "deleteBatches", topicId: 1, partition: 0, baseOffsets: [0, 1, 2] }]);
  const p0 = d.state.partitionInfo("logs", 0);
  assert.deepEqual([p0.startOffset, p0.highWatermark, p0.bytes], [3, 5, blobBytes * 2]);
  assert.equal(d.state.partitionInfo("logs", 1).batchCount, 1);
});

test("a tick deletes at most its bound of batches; the next tick continues", () => {
  const d = new Driver();
  ok(d.create("many", 1, { retentionBytes: 1 }));
  const total = maxBatchDeletesPerTick + 10;
  const blob = encodeRecordBatch([{ value: bytes("v") }], t0);
  for (let i = 0; i < total; i++) ok(d.run({ kind: CommandKind.Produce, nowMs: t0, batches: [{ topic: "many", partition: 0, blob }] }));
  const first = ok(d.tick(t0));
  assert.equal(first.result.kind === "ticked" && first.result.deletedBatches, maxBatchDeletesPerTick);
  const second = ok(d.tick(t0));
  assert.equal(second.result.kind === "ticked" && second.result.deletedBatches, total - 1 - maxBatchDeletesPerTick);
  assert.equal(d.state.partitionInfo("many", 0).startOffset, total - 1);
});

test("the same commands give the same results and mutations on every node", () => {
  const script = (d: Driver): ApplyOutcome[] => [
    d.create("a", 3, { retentionMs: 100, retentionBytes: 200 }),
    d.create("b", 1),
    d.produce("a", 0, ["1", "2"], t0, t0),
    d.produce("a", 2, ["3".repeat(150)], t0 + 50, t0 + 50),
    d.produce("b", 0, ["x"]),
    d.produce("a", 0, ["4"], t0 + 60, t0 + 60),
    d.run({ kind: CommandKind.DeleteTopic, nowMs: t0 + 70, name: "b" }),
    d.tick(t0 + 200),
    d.produce("a", 1, ["late"], t0 + 300),
    d.tick(t0 + 400),
  ];
  const one = new Driver();
  const two = new Driver();
  assert.deepEqual(script(one), script(two));
  assert.deepEqual(observe(one.state), observe(two.state));
});

test("locate finds the batch holding an offset and bounds the read by bytes", () => {
  const d = new Driver();
  ok(d.create("t"));
  ok(d.produce("t", 0, ["a", "b", "c"]));
  ok(d.produce("t", 0, ["d"]));
  ok(d.produce("t", 0, ["e", "f"]));
  const mid = d.state.locate("t", 0, 1, 1);
  assert.deepEqual([mid.batches[0].baseOffset, mid.batches.length, mid.highWatermark], [0, 1, 6], "at least one batch");
  const twoBatches = d.state.locate("t", 0, 2, mid.bytes + 1);
  const twoBytes = mid.bytes + d.state.locate("t", 0, 3, 1).bytes;
  assert.deepEqual([twoBatches.batches.length, twoBatches.bytes], [1, mid.bytes], "the second batch would exceed maxBytes");
  const fits = d.state.locate("t", 0, 2, twoBytes);
  assert.deepEqual([fits.batches[0].baseOffset, fits.batches.length, fits.bytes], [0, 2, twoBytes]);
  assert.deepEqual(
    fits.batches.map((b) => [b.entryIndex, b.entryOffset > 0]),
    [
      [2, true],
      [3, true],
    ],
    "each batch names the entry that carried it",
  );
  const all = d.state.locate("t", 0, 4, 1 << 20);
  assert.deepEqual([all.batches[0].baseOffset, all.batches.length], [4, 1]);
  const atEnd = d.state.locate("t", 0, 6, 1 << 20);
  assert.equal(atEnd.batches.length, 0, "offset == high watermark is valid and reads nothing");
  assert.throws(() => d.state.locate("t", 0, 7, 100), /out of range \[0, 6\]/);
  assert.throws(() => d.state.locate("t", 0, -1, 100), (err: Error & { code?: string }) => err.code === "OUT_OF_RANGE");
  assert.throws(() => d.state.locate("t", 1, 0, 100), (err: Error & { code?: string }) => err.code === "INVALID_ARGUMENT");
  assert.throws(() => d.state.locate("u", 0, 0, 100), (err: Error & { code?: string }) => err.code === "NOT_FOUND");
});

test("empty entries are no-ops, and indexes must increase", () => {
  const d = new Driver();
  assert.deepEqual(d.state.apply(1, new Uint8Array(0)), { result: { kind: "noop" }, mutations: [] });
  assert.equal(d.state.appliedIndex, 1);
  assert.throws(() => d.state.apply(1, new Uint8Array(0)), /after 1/);
});

test("restore from the mutations gives a state that behaves identically", () => {
  // An in-memory stand-in for the store, to check restore without LevelDB (the store test does it for real).
  const d = new Driver();
  const topics = new Map<number, TopicRecord>();
  const batches = new Map<string, { topicId: number; partition: number; entry: BatchIndexEntry }>();
  let nextTopicId = 1;
  const persist = (outcome: ApplyOutcome): ApplyOutcome => {
    for (const m of outcome.mutations) {
      if (m.kind === "putTopic") topics.set(m.topic.id, m.topic);
      if (m.kind === "removeTopic") topics.delete(m.topicId);
      if (m.kind === "putNextTopicId") nextTopicId = m.nextTopicId;
      if (m.kind === "putBatch") batches.set(`${m.topicId}/${m.partition}/${m.entry.baseOffset}`, m);
      if (m.kind === "deleteBatches") for (const b of m.batches) batches.delete(`${m.topicId}/${m.partition}/${b.baseOffset}`);
    }
    return outcome;
  };
  persist(d.create("a", 2, { retentionBytes: 100 }));
  persist(d.create("gone", 1));
  for (let i = 0; i < 6; i++) persist(d.produce("a", i % 2, ["x".repeat(40)]));
  persist(d.produce("gone", 0, ["y"]));
  persist(d.run({ kind: CommandKind.DeleteTopic, nowMs: t0, name: "gone" }));
  persist(d.tick(t0));
  persist(d.produce("a", 0, ["z"]));

  const partitions = new Map<string, { topicId: number; partition: number; entries: BatchIndexEntry[] }>();
  for (const b of [...batches.values()].sort((x, y) => x.entry.baseOffset - y.entry.baseOffset)) {
    const key = `${b.topicId}/${b.partition}`;
    if (!partitions.has(key)) partitions.set(key, { topicId: b.topicId, partition: b.partition, entries: [] });
    partitions.get(key)?.entries.push(b.entry);
  }
  const restored = new Driver(BrokerState.restore({ nextTopicId, topics: [...topics.values()], partitions: [...partitions.values()] }, d.index));
  restored.index = d.index;
  assert.deepEqual(observe(restored.state), observe(d.state));
  const more = (x: Driver): ApplyOutcome[] => [x.produce("a", 1, ["after"]), x.create("c"), x.tick(t0 + 10)];
  assert.deepEqual(more(restored), more(d));
});

test("produced records decode back from where the index says they are in their entry", () => {
  const d = new Driver();
  ok(d.create("t"));
  const outcome = ok(d.produce("t", 0, ["hello", "world"]));
  const put = outcome.mutations[0];
  assert.equal(put.kind, "putBatch");
  if (put.kind !== "putBatch") return;
  const { entryIndex, entryOffset, bytes: size } = put.entry;
  const data = d.entries.get(entryIndex);
  assert.ok(data);
  const records: DecodedRecord[] = decodeRecordBatch(data.subarray(entryOffset, entryOffset + size), put.entry.baseOffset);
  assert.deepEqual(
    records.map((r) => [r.offset, new TextDecoder().decode(r.value)]),
    [
      [0, "hello"],
      [1, "world"],
    ],
  );
});
