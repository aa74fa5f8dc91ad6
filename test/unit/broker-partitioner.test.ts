import { test } from "node:test";
import assert from "node:assert/strict";
import { StickyPartitioner, murmur2, partitionForKey, splitByPartition, toPositive } from "../../src/broker/partitioner";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

// Expected values from Kafka's own test of Utils.murmur2 (clients/.../utils/UtilsTest.java), plus
// short keys covering every tail length, as computed by Kafka's implementation.
const kafkaVectors: [string, number][] = [
  ["21", -973932308],
  ["foobar", -790332482],
  ["a-little-bit-long-string", -985981536],
  ["a-little-bit-longer-string", -1486304829],
  ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
  ["abc", 479470107],
  ["1", -1993445489],
  ["12", 126087238],
  ["123", -267702483],
  ["1234", -1614185708],
  ["12345", -1188365604],
];

test("murmur2 is bit-exact with Kafka's Utils.murmur2", () => {
  for (const [key, expected] of kafkaVectors) assert.equal(murmur2(bytes(key)), expected, key);
});

test("toPositive clears the sign bit like Kafka (not Math.abs)", () => {
  assert.equal(toPositive(-973932308), -973932308 & 0x7fffffff);
  assert.equal(toPositive(-2147483648), 0);
  assert.equal(toPositive(5), 5);
  assert.equal(partitionForKey(bytes("21"), 7), (-973932308 & 0x7fffffff) % 7);
});

test("sticky round-robin advances once per call, per topic", () => {
  const sticky = new StickyPartitioner();
  assert.deepEqual([0, 1, 2, 3].map(() => sticky.next("a", 3)), [0, 1, 2, 0]);
  assert.equal(sticky.next("b", 3), 0, "another topic has its own counter");
  const bounded = new StickyPartitioner(1);
  bounded.next("a", 3);
  bounded.next("b", 3);
  assert.equal(bounded.next("a", 3), 0, "beyond the bound, counters restart");
});

test("splitting keeps per-partition order and sends keyless records to the sticky partition", () => {
  const records = [
    { key: bytes("21"), value: 0 },
    { value: 1 },
    { key: bytes("foobar"), value: 2 },
    { key: bytes("21"), value: 3 },
    { key: null, value: 4 },
  ];
  const partitions = 5;
  const splits = splitByPartition(records, partitions, 4);
  const p21 = partitionForKey(bytes("21"), partitions);
  const pFoo = partitionForKey(bytes("foobar"), partitions);
  const expected = new Map<number, number[]>();
  const add = (p: number, i: number) => expected.set(p, [...(expected.get(p) ?? []), i]);
  add(p21, 0);
  add(4, 1);
  add(pFoo, 2);
  add(p21, 3);
  add(4, 4);
  assert.deepEqual(
    splits.map((s) => [s.partition, s.recordIndices]),
    [...expected.entries()].sort((a, b) => a[0] - b[0]),
  );
  for (const split of splits) assert.deepEqual(split.records, split.recordIndices.map((i) => records[i]));
});
