// The work-queue checks against planted bugs: each stays quiet on a correct history and names the bug in
// a fabricated one — a record left undone, a dead letter that is not a copy, a record dead-lettered
// twice, one both accepted and dead-lettered, a redelivery after an acknowledged acceptance, a delivery
// past the limit, a worker handed another value than the log holds.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { referenceLogs } from "./checker";
import { nodeLogs, topic } from "./fabricated";
import type { StoredRecord } from "./model";
import { queueAllDone, queueDeadLetters, queueDeliveries, queueNoneBoth } from "./queue-checks";

const reference = referenceLogs(nodeLogs([1, 2, 3], [["a", "b", "c"], ["d"]]));
const limit = 3;

function deadLetter(at: number, partition: number, offset: number, extra: Partial<StoredRecord> = {}, count = limit, reason = "delivery limit"): StoredRecord {
  const source = reference.get(topic)?.[partition]?.[offset] as StoredRecord;
  const h = (key: string, value: string | number): { key: string; value: Buffer } => ({ key: `raftline-dlq-${key}`, value: Buffer.from(String(value)) });
  return {
    ...source,
    offset: at,
    headers: [...source.headers, h("group", "q"), h("source-topic", topic), h("source-partition", partition), h("source-offset", offset), h("delivery-count", count), h("reason", reason), h("time-ms", 5)],
    ...extra,
  };
}

const messages = (v: { message: string }[]): string[] => v.map((x) => x.message);

describe("every record ends done", () => {
  test("start offsets at the end of every partition pass", () => {
    assert.deepEqual(queueAllDone(topic, reference, [3, 1]), []);
  });

  test("a record left behind is caught", () => {
    const found = queueAllDone(topic, reference, [2, 1]);
    assert.deepEqual(messages(found), ["t/0: share start offset 2, log end 3: records neither accepted nor dead-lettered"]);
    assert.equal(found[0].check, "queue-lost");
  });
});

describe("dead letters", () => {
  test("byte-for-byte copies, once each, pass", () => {
    assert.deepEqual(queueDeadLetters(topic, reference, [deadLetter(0, 0, 1), deadLetter(1, 1, 0, {}, 1, "rejected: x")], limit), []);
  });

  test("a changed value, a lost header or a wrong timestamp is caught", () => {
    const bad = [deadLetter(0, 0, 1, { value: Buffer.from("B") }), deadLetter(1, 0, 2, { timestampMs: 1 })];
    const lostHeader = deadLetter(2, 1, 0);
    lostHeader.headers = lostHeader.headers.slice(1);
    const found = queueDeadLetters(topic, reference, [...bad, lostHeader], limit);
    assert.deepEqual(messages(found), [
      'dead letter of t/0/1 differs from the record: value "b" vs "B"',
      "dead letter of t/0/2 differs from the record: timestamp 1002 vs 1",
      "dead letter of t/1/0 differs from the record: 1 vs 0 headers",
    ]);
    assert.ok(found.every((v) => v.check === "queue-dead-letter-copy"));
  });

  test("a record dead-lettered twice is caught", () => {
    const found = queueDeadLetters(topic, reference, [deadLetter(0, 0, 1), deadLetter(1, 0, 1)], limit);
    assert.deepEqual(messages(found), ["t/0/1 dead-lettered twice (again at dead-letter offset 1)"]);
    assert.equal(found[0].check, "queue-dead-letter-twice");
  });

  test("a dead letter before the limit is caught", () => {
    assert.deepEqual(messages(queueDeadLetters(topic, reference, [deadLetter(0, 0, 1, {}, 2)], limit)), ['dead letter of t/0/1: delivery count 2, reason "delivery limit", limit 3']);
  });

  test("a record both accepted and dead-lettered is caught", () => {
    assert.deepEqual(queueNoneBoth(topic, [{ partition: 0, offset: 0, deliveryCount: 1 }], [deadLetter(0, 0, 1)]), []);
    const found = queueNoneBoth(topic, [{ partition: 0, offset: 1, deliveryCount: 1 }], [deadLetter(0, 0, 1)]);
    assert.deepEqual(messages(found), ["t/0/1 was accepted (acknowledged) and dead-lettered"]);
    assert.equal(found[0].check, "queue-accepted-and-dead");
  });
});

describe("deliveries", () => {
  const d = (partition: number, offset: number, value: string, deliveryCount = 1) => ({ partition, offset, value, deliveryCount });

  test("redeliveries before an acceptance pass", () => {
    assert.deepEqual(queueDeliveries(topic, reference, [d(0, 0, "a"), d(0, 0, "a", 2), d(1, 0, "d")], [{ partition: 0, offset: 0, deliveryCount: 2 }], limit), []);
  });

  test("a redelivery after an acknowledged acceptance is caught", () => {
    const found = queueDeliveries(topic, reference, [d(0, 0, "a"), d(0, 0, "a", 2)], [{ partition: 0, offset: 0, deliveryCount: 1 }], limit);
    assert.deepEqual(messages(found), ["t/0/0 delivered (count 2) after its acceptance of delivery 1 was acknowledged"]);
    assert.equal(found[0].check, "queue-redelivered-after-accept");
  });

  test("a delivery past the limit, and a wrong value, are caught", () => {
    const found = queueDeliveries(topic, reference, [d(0, 1, "b", 4), d(0, 2, "x")], [], limit);
    assert.deepEqual(messages(found), ['t/0/2: handed "x", the log holds "c"', "t/0/1 delivered 4 times, limit 3"]);
    assert.deepEqual(found.map((v) => v.check), ["queue-wrong-record", "queue-over-limit"]);
  });
});
