// The fast read path's bytes decode, with the contract's own decoder, to exactly what the object path
// (recordsFrom + protobufjs) sends: same records, same trimming and byte bound, same errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BrokerError } from "../../src/broker/errors";
import { StoredBatch, recordsFrom } from "../../src/broker/fetch-records";
import { RecordInput, encodeRecordBatch } from "../../src/broker/record-batch";
import { ConsumedRecordsWire } from "../../src/server/consumed-wire";
import { publicApi } from "../../src/server/public-proto";
import { consumerServiceDefinition } from "../../src/server/services/consumer-service";

const generated = publicApi().Consumer.service;
const nowMs = 1_700_000_000_000;

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Batches of the given record lists, at dense offsets from `baseOffset`. */
function stored(baseOffset: number, ...lists: RecordInput[][]): StoredBatch[] {
  const out: StoredBatch[] = [];
  let next = baseOffset;
  for (const records of lists) {
    out.push({ baseOffset: next, blob: encodeRecordBatch(records, nowMs) });
    next += records.length;
  }
  return out;
}

function values(prefix: string, count: number, extra: Partial<RecordInput> = {}): RecordInput[] {
  return Array.from({ length: count }, (_, i) => ({ value: bytes(`${prefix}-${i}`), ...extra }));
}

const trailer = { highWatermark: 2 ** 40 + 7, logStartOffset: 3 };

function sameFetch(batches: StoredBatch[], offset: number, maxBytes: number): unknown {
  const records = recordsFrom(batches, offset, maxBytes);
  const nextOffset = records.length > 0 ? records[records.length - 1].offset + 1 : offset;
  const expected = generated.Fetch.responseSerialize({ records, ...trailer, nextOffset });
  const wire = ConsumedRecordsWire.encode(batches, offset, maxBytes);
  assert.equal(wire.recordCount, records.length);
  assert.equal(wire.nextOffset, nextOffset);
  const actual = wire.fetchResponse({ ...trailer, nextOffset: wire.nextOffset });
  const decoded = generated.Fetch.responseDeserialize(actual);
  assert.deepEqual(decoded, generated.Fetch.responseDeserialize(expected));
  return decoded;
}

function sameSubscribe(batches: StoredBatch[], offset: number, maxBytes: number): void {
  const records = recordsFrom(batches, offset, maxBytes);
  const expected = generated.Subscribe.responseSerialize({ records, ...trailer });
  const actual = ConsumedRecordsWire.encode(batches, offset, maxBytes).subscribeResponse(trailer);
  assert.deepEqual(generated.Subscribe.responseDeserialize(actual), generated.Subscribe.responseDeserialize(expected));
}

test("records without keys or headers, from offset 0 (default-valued fields)", () => {
  const batches = stored(0, values("a", 3), values("b", 2));
  const decoded = sameFetch(batches, 0, 1 << 20) as { records: { offset: number }[] };
  assert.deepEqual(
    decoded.records.map((r) => r.offset),
    [0, 1, 2, 3, 4],
  );
  sameSubscribe(batches, 0, 1 << 20);
});

test("absent, empty and non-empty keys; empty values; headers with unicode keys and empty parts", () => {
  const records: RecordInput[] = [
    { value: new Uint8Array(0) },
    { key: new Uint8Array(0), value: bytes("empty key") },
    { key: bytes("k"), value: bytes("v"), timestampMs: 5 },
    { value: bytes("h"), headers: [{ key: "trace", value: bytes("1") }, { key: "", value: new Uint8Array(0) }] },
    { key: bytes("ü"), value: bytes("x"), headers: [{ key: "clé-😀", value: bytes("v") }, { key: "k", value: new Uint8Array(0) }] },
  ];
  const batches = stored(2 ** 33, records);
  sameFetch(batches, 2 ** 33, 1 << 20);
  sameSubscribe(batches, 2 ** 33, 1 << 20);
});

test("trimming starts mid-batch at the requested offset", () => {
  const batches = stored(100, values("a", 10), values("b", 10));
  for (const offset of [100, 101, 105, 109, 110, 115, 119]) sameFetch(batches, offset, 1 << 20);
});

test("max_bytes stops before the record that would exceed it, but always sends one", () => {
  const batches = stored(0, values("r", 20), values("s", 20, { headers: [{ key: "é", value: bytes("12") }] }));
  for (const maxBytes of [1, 3, 4, 10, 16, 50, 95, 96, 200, 1 << 20]) {
    for (const offset of [0, 7, 19, 20, 33]) sameFetch(batches, offset, maxBytes);
  }
  // Header keys count in characters (UTF-16 units), as the object path measures them: "😀" is 2.
  const wide = stored(0, values("w", 10, { headers: [{ key: "😀é", value: new Uint8Array(0) }] }));
  for (let maxBytes = 1; maxBytes <= 60; maxBytes++) sameFetch(wide, 0, maxBytes);
  const big = stored(0, [{ value: new Uint8Array(5000).fill(7) }, { value: bytes("next") }]);
  const decoded = sameFetch(big, 0, 100) as { records: unknown[] };
  assert.equal(decoded.records.length, 1);
});

test("large values and keys are copied intact", () => {
  const value = Uint8Array.from({ length: 70_000 }, (_, i) => i % 251);
  const key = Uint8Array.from({ length: 300 }, (_, i) => i % 13);
  const around = [1, 3, 4, 5, 191, 192, 193].map((n) => ({ value: value.subarray(7, 7 + n) }));
  sameFetch(stored(9, [{ key, value }, ...around]), 9, 1 << 20);
});

test("random records match the object path (seeded)", () => {
  let seed = 0x9e3779b9;
  const random = (): number => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  const pick = (n: number): number => Math.floor(random() * n);
  const randomRecord = (): RecordInput => {
    const record: RecordInput = { value: new Uint8Array(pick(300)).fill(pick(256)), timestampMs: pick(3) === 0 ? 0 : 1 + pick(2 ** 45) };
    if (pick(2) === 0) record.key = new Uint8Array(pick(20)).fill(1);
    if (pick(4) === 0) {
      record.headers = Array.from({ length: pick(4) }, (_, i) => ({ key: `h${i}`.repeat(pick(3)), value: new Uint8Array(pick(10)) }));
    }
    return record;
  };
  for (let round = 0; round < 50; round++) {
    const lists = Array.from({ length: 1 + pick(4) }, () => Array.from({ length: 1 + pick(30) }, randomRecord));
    const base = pick(2) === 0 ? 0 : pick(2 ** 50);
    const batches = stored(base, ...lists);
    const offset = base + pick(lists[0].length);
    sameFetch(batches, offset, 1 + pick(3000));
    sameSubscribe(batches, offset, 1 + pick(3000));
  }
});

test("nothing to encode: no batches, or only records before the offset", () => {
  assert.equal(ConsumedRecordsWire.encode([], 5, 100).recordCount, 0);
  sameFetch([], 5, 100);
  const wire = ConsumedRecordsWire.encode(stored(0, values("a", 3)), 3, 100);
  assert.equal(wire.recordCount, 0);
  assert.equal(wire.nextOffset, 3);
  const empty = ConsumedRecordsWire.none(42).fetchResponse({ ...trailer, nextOffset: 42 });
  assert.deepEqual(generated.Fetch.responseDeserialize(empty), { records: [], ...trailer, nextOffset: 42 });
});

test("a record cap stops an answer of tiny records before its byte bound would", () => {
  const batches = stored(0, values("", 10));
  const capped = ConsumedRecordsWire.encode(batches, 2, 1 << 20, 3);
  assert.equal(capped.recordCount, 3);
  assert.equal(capped.nextOffset, 5);
  assert.equal(ConsumedRecordsWire.encode(batches, 2, 1 << 20).recordCount, 8);
});

function brokerError(code: string): (err: unknown) => boolean {
  return (err) => err instanceof BrokerError && err.code === code;
}

test("a bad checksum or a gap is DATA_LOSS; batches starting after the offset are OUT_OF_RANGE", () => {
  const batches = stored(0, values("a", 3), values("b", 3));
  const damaged = Uint8Array.from(batches[1].blob);
  damaged[damaged.length - 1] ^= 1;
  assert.throws(() => ConsumedRecordsWire.encode([batches[0], { baseOffset: 3, blob: damaged }], 0, 1 << 20), brokerError("DATA_LOSS"));
  const gap = [batches[0], { baseOffset: 4, blob: batches[1].blob }];
  assert.throws(() => ConsumedRecordsWire.encode(gap, 0, 1 << 20), brokerError("DATA_LOSS"));
  assert.throws(() => ConsumedRecordsWire.encode(batches.slice(1), 1, 1 << 20), brokerError("OUT_OF_RANGE"));
});

test("a response is completed once", () => {
  const wire = ConsumedRecordsWire.encode(stored(0, values("a", 1)), 0, 100);
  wire.subscribeResponse(trailer);
  assert.throws(() => wire.fetchResponse({ ...trailer, nextOffset: 1 }));
});

test("the served definition passes Fetch and Subscribe bytes through, and keeps everything else", () => {
  const served = consumerServiceDefinition(generated);
  const body = Buffer.from([1, 2, 3]);
  assert.equal(served.Fetch.responseSerialize(body), body);
  assert.equal(served.Subscribe.responseSerialize(body), body);
  assert.equal(served.Fetch.requestDeserialize, generated.Fetch.requestDeserialize);
  assert.equal(served.Fetch.path, generated.Fetch.path);
  assert.equal(served.Subscribe.responseStream, true);
  assert.deepEqual(Object.keys(served).sort(), Object.keys(generated).sort());
});
