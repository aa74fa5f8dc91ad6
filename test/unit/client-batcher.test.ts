import { test } from "node:test";
import assert from "node:assert/strict";
import { RecordBatcher, batchKey } from "../../src/client/record-batcher";
import { ProducerRecord, recordBytes } from "../../src/client/records";

const records = (n: number, value = "v"): ProducerRecord[] => Array.from({ length: n }, (_, i) => ({ value: `${value}${i}` }));

test("records of several sends to one partition share a batch until it is full", () => {
  const batcher = new RecordBatcher<string>({ maxBatchRecords: 5, maxBatchBytes: 1 << 20 });
  assert.deepEqual(batcher.add("t", 0, records(2), "a"), []);
  const ready = batcher.add("t", 0, records(4), "b");
  assert.equal(ready.length, 1);
  assert.equal(ready[0].records.length, 5);
  assert.deepEqual(
    ready[0].segments.map((s) => [s.owner, s.ownerIndex, s.count]),
    [
      ["a", 0, 2],
      ["b", 0, 3],
    ],
  );
  const rest = batcher.take(batchKey("t", 0));
  assert.deepEqual(rest?.segments.map((s) => [s.owner, s.ownerIndex, s.count]), [["b", 3, 1]]);
  assert.equal(batcher.openCount, 0);
});

test("topics and partitions (and 'let the server choose') batch separately", () => {
  const batcher = new RecordBatcher<string>({ maxBatchRecords: 100, maxBatchBytes: 1 << 20 });
  batcher.add("t", 0, records(1), "a");
  batcher.add("t", 1, records(1), "b");
  batcher.add("t", undefined, records(1), "c");
  batcher.add("u", 0, records(1), "d");
  const all = batcher.takeAll();
  assert.deepEqual(all.map((b) => [b.topic, b.partition, b.segments[0].owner]), [
    ["t", 0, "a"],
    ["t", 1, "b"],
    ["t", undefined, "c"],
    ["u", 0, "d"],
  ]);
});

test("a batch closes before it would pass maxBatchBytes; one oversized record travels alone", () => {
  const batcher = new RecordBatcher<string>({ maxBatchRecords: 100, maxBatchBytes: 10 });
  const ready = batcher.add("t", 0, [{ value: "aaaa" }, { value: "bbbb" }, { value: "cccc" }, { value: "x".repeat(50) }, { value: "d" }], "s");
  assert.deepEqual(ready.map((b) => b.records.map((r) => String(r.value).length)), [[4, 4], [4], [50]]);
  assert.ok(ready.every((b) => b.bytes <= 10 || b.records.length === 1));
  assert.deepEqual(batcher.take(batchKey("t", 0))?.segments, [{ owner: "s", ownerIndex: 4, count: 1 }]);
});

test("every record of a large send is in exactly one batch, in order", () => {
  const batcher = new RecordBatcher<string>({ maxBatchRecords: 7, maxBatchBytes: 1 << 20 });
  const input = records(50);
  const batches = [...batcher.add("t", 2, input, "s"), ...batcher.takeAll()];
  assert.ok(batches.every((b) => b.records.length <= 7));
  assert.deepEqual(batches.flatMap((b) => b.records), input);
  assert.deepEqual(
    batches.flatMap((b) => b.segments.flatMap((s) => Array.from({ length: s.count }, (_, k) => s.ownerIndex + k))),
    [...input.keys()],
  );
});

test("record size counts key, value, header keys and values in bytes", () => {
  assert.equal(recordBytes({ value: "héllo" }), 6);
  assert.equal(recordBytes({ key: new Uint8Array(3), value: "", headers: [{ key: "ab", value: new Uint8Array(4) }] }), 9);
  assert.equal(recordBytes({ key: "", value: "x" }), 1);
});

test("limits are validated", () => {
  assert.throws(() => new RecordBatcher({ maxBatchRecords: 0, maxBatchBytes: 10 }), RangeError);
  assert.throws(() => new RecordBatcher({ maxBatchRecords: 1, maxBatchBytes: 0 }), RangeError);
});
