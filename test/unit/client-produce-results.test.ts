import { test } from "node:test";
import assert from "node:assert/strict";
import { placementsOf } from "../../src/client/produce-results";

test("an append without indices covers the whole batch with dense offsets", () => {
  const placements = placementsOf(
    { topic: "t", appends: [{ partition: 2, baseOffset: 40, recordCount: 3, recordIndices: [], brokerTimestampMs: 1 }] },
    3,
  );
  assert.deepEqual(placements, [
    { partition: 2, offset: 40 },
    { partition: 2, offset: 41 },
    { partition: 2, offset: 42 },
  ]);
});

test("records the server spread over partitions map back through their indices", () => {
  const placements = placementsOf(
    {
      topic: "t",
      appends: [
        { partition: 0, baseOffset: 10, recordCount: 2, recordIndices: [1, 3], brokerTimestampMs: 0 },
        { partition: 1, baseOffset: 5, recordCount: 2, recordIndices: [0, 2], brokerTimestampMs: 0 },
      ],
    },
    4,
  );
  assert.deepEqual(placements, [
    { partition: 1, offset: 5 },
    { partition: 0, offset: 10 },
    { partition: 1, offset: 6 },
    { partition: 0, offset: 11 },
  ]);
});

test("without quorum acks offsets are unknown (-1)", () => {
  const placements = placementsOf(
    { topic: "t", appends: [{ partition: 0, baseOffset: -1, recordCount: 2, recordIndices: [], brokerTimestampMs: 0 }] },
    2,
  );
  assert.deepEqual(placements, [
    { partition: 0, offset: -1 },
    { partition: 0, offset: -1 },
  ]);
});

test("an answer that misses a record or names one beyond the batch is rejected", () => {
  assert.throws(
    () => placementsOf({ topic: "t", appends: [{ partition: 0, baseOffset: 0, recordCount: 1, recordIndices: [0], brokerTimestampMs: 0 }] }, 2),
    /record 1 of 2 has no placement/,
  );
  assert.throws(
    () => placementsOf({ topic: "t", appends: [{ partition: 0, baseOffset: 0, recordCount: 1, recordIndices: [5], brokerTimestampMs: 0 }] }, 2),
    /beyond the batch/,
  );
});
