// The consumer-group checks against planted bugs: each stays quiet on a correct history and names the
// bug in a fabricated one — a record no member consumed, a member handed another value than the log
// holds, a committed offset going back, two owners of a partition in one generation.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { referenceLogs } from "./checker";
import { nodeLogs, topic } from "./fabricated";
import { Consumed, committedNeverBackwards, groupConsumedAll, oneOwnerPerGeneration } from "./group-checks";

const reference = referenceLogs(nodeLogs([1, 2, 3], [["a", "b", "c"], ["d"]]));

function consumed(entries: [number, number, string][]): Consumed {
  const out: Consumed = new Map();
  for (const [p, offset, value] of entries) {
    if (!out.has(p)) out.set(p, new Map());
    out.get(p)?.set(offset, value);
  }
  return out;
}

describe("every record consumed at least once", () => {
  test("a full consumption passes, redeliveries included", () => {
    assert.deepEqual(groupConsumedAll(topic, consumed([[0, 0, "a"], [0, 1, "b"], [0, 2, "c"], [0, 1, "b"], [1, 0, "d"]]), reference), []);
  });

  test("a record no member consumed is caught", () => {
    const found = groupConsumedAll(topic, consumed([[0, 0, "a"], [0, 2, "c"], [1, 0, "d"]]), reference);
    assert.deepEqual(found.map((v) => v.message), ["t/0: 1 of 3 records never consumed by any member (first at offset 1)"]);
    assert.equal(found[0].check, "group-at-least-once");
  });

  test("a member handed something else than the log holds is caught", () => {
    const found = groupConsumedAll(topic, consumed([[0, 0, "a"], [0, 1, "x"], [0, 2, "c"], [1, 0, "d"]]), reference);
    assert.deepEqual(found.map((v) => v.message), ['t/0 offset 1: consumed "x" but the log holds "b"']);
  });
});

describe("committed offsets never go back", () => {
  test("rising and repeated offsets pass", () => {
    const seen = [{ partition: 0, offset: 1, atMs: 1 }, { partition: 0, offset: 1, atMs: 2 }, { partition: 1, offset: 0, atMs: 2 }, { partition: 0, offset: 5, atMs: 3 }];
    assert.deepEqual(committedNeverBackwards(topic, seen), []);
  });

  test("an offset lower than one seen before is caught", () => {
    const seen = [{ partition: 0, offset: 4, atMs: 1 }, { partition: 1, offset: 9, atMs: 1 }, { partition: 0, offset: 3, atMs: 2 }];
    const found = committedNeverBackwards(topic, seen);
    assert.deepEqual(found.map((v) => `${v.check}: ${v.message}`), ["group-commit-backwards: t/0: committed offset 3 at t=2 after 4 at t=1"]);
  });
});

describe("one owner per partition and generation", () => {
  test("a hand-over across generations passes", () => {
    const seen = [
      { member: "a", generation: 1, partitions: [0, 1] },
      { member: "b", generation: 2, partitions: [] },
      { member: "a", generation: 3, partitions: [0] },
      { member: "b", generation: 4, partitions: [1] },
    ];
    assert.deepEqual(oneOwnerPerGeneration(topic, seen), []);
  });

  test("two members owning one partition in the same generation are caught", () => {
    const seen = [
      { member: "a", generation: 3, partitions: [0, 1] },
      { member: "b", generation: 3, partitions: [1] },
    ];
    const found = oneOwnerPerGeneration(topic, seen);
    assert.deepEqual(found.map((v) => `${v.check}: ${v.message}`), ["group-two-owners: t/1 owned by both a and b in generation 3"]);
  });
});
