// A sequence names one batch of records. A batch that comes with the sequence and record count of one
// its producer appended is a resend only if it holds the same records; with other records (kafkajs 2.x
// numbers the batch after a failed send from that send's sequence) answering it as a duplicate would
// acknowledge records never stored, so it is refused and nothing changes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ApplyOutcome, BrokerState } from "../../src/broker/broker-state";
import { batchFingerprint } from "../../src/broker/batch-fingerprint";
import { Command, CommandKind, ProduceCommandBatch, ProducerStamp, encodeCommand } from "../../src/broker/commands";
import { crc32c, crc32cExtend } from "../../src/broker/crc32c";
import { RecordInput, encodeRecordBatch } from "../../src/broker/record-batch";
import type { AppendedBatch } from "../../src/broker/results";

const t0 = 1_700_000_000_000;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const records = (tag: string, count = 3): RecordInput[] => Array.from({ length: count }, (_, i) => ({ key: bytes(`k${i}`), value: bytes(`${tag}${i}`) }));

class Driver {
  index = 0;
  readonly state = new BrokerState();
  readonly producer: { producerId: number; epoch: number };

  constructor() {
    this.run({ kind: CommandKind.CreateTopic, nowMs: t0, name: "t", partitions: 1, retentionMs: 0, retentionBytes: 0, maxRecordBytes: 0 });
    const init = this.run({ kind: CommandKind.InitProducer, nowMs: t0, producerId: 0 });
    if (init.result.kind !== "producerInitialized") throw new Error("init failed");
    this.producer = { producerId: init.result.producerId, epoch: init.result.epoch };
  }

  run(command: Command): ApplyOutcome {
    return this.state.apply(++this.index, encodeCommand(command));
  }

  stamp(baseSequence: number): ProducerStamp {
    return { ...this.producer, baseSequence };
  }

  batch(baseSequence: number, recs: readonly RecordInput[], nowMs = t0): ProduceCommandBatch {
    return { topic: "t", partition: 0, blob: encodeRecordBatch(recs, nowMs), producer: this.stamp(baseSequence) };
  }

  send(baseSequence: number, recs: readonly RecordInput[], nowMs = t0): ApplyOutcome {
    return this.run({ kind: CommandKind.Produce, nowMs, batches: [this.batch(baseSequence, recs, nowMs)] });
  }

  get highWatermark(): number {
    return this.state.partitionInfo("t", 0).highWatermark;
  }
}

function produced(outcome: ApplyOutcome): AppendedBatch[] {
  if (outcome.result.kind === "error") assert.fail(`unexpected error: ${outcome.result.error.message}`);
  assert.equal(outcome.result.kind, "produced");
  return outcome.result.kind === "produced" ? outcome.result.batches : [];
}

/** The refusal's code and reason; asserts that it changed nothing. */
function refusal(outcome: ApplyOutcome): string {
  assert.equal(outcome.result.kind, "error");
  assert.deepEqual(outcome.mutations, [], "a refused command writes nothing");
  return outcome.result.kind === "error" ? `${outcome.result.error.code} ${outcome.result.error.reason}` : "";
}

test("crc32cExtend continues a checksum: pieces checksum like the whole", () => {
  const whole = bytes("123456789 and then some more bytes");
  assert.equal(crc32c(bytes("123456789")), 0xe3069283, "the standard CRC-32C check value");
  assert.equal(crc32cExtend(crc32cExtend(0, whole, 0, 5), whole, 5), crc32c(whole));
  assert.equal(crc32cExtend(crc32c(whole, 0, 13), whole, 13, whole.length), crc32c(whole));
});

test("the fingerprint covers keys, values and headers, and leaves timestamps out", () => {
  const base: RecordInput[] = [{ key: bytes("k"), value: bytes("v"), headers: [{ key: "h", value: bytes("1") }] }];
  const of = (recs: RecordInput[], nowMs = t0): number => batchFingerprint(encodeRecordBatch(recs, nowMs));
  const fingerprint = of(base);
  assert.equal(of(base, t0 + 999), fingerprint, "the broker's clock (records without a timestamp)");
  assert.equal(of([{ ...base[0], timestampMs: t0 - 5 }]), fingerprint, "the client's timestamp (kafkajs restamps a resend)");
  const differing: [string, RecordInput[]][] = [
    ["value", [{ ...base[0], value: bytes("w") }]],
    ["key", [{ ...base[0], key: bytes("j") }]],
    ["no key", [{ value: base[0].value, headers: base[0].headers }]],
    ["empty key", [{ ...base[0], key: new Uint8Array(0) }]],
    ["header value", [{ ...base[0], headers: [{ key: "h", value: bytes("2") }] }]],
    ["header key", [{ ...base[0], headers: [{ key: "g", value: bytes("1") }] }]],
    ["no header", [{ key: base[0].key, value: base[0].value }]],
    ["value moved into the key", [{ key: bytes("kv"), value: new Uint8Array(0), headers: base[0].headers }]],
  ];
  for (const [what, recs] of differing) assert.notEqual(of(recs), fingerprint, what);
  assert.notEqual(of(records("a", 2)), of([...records("a", 2)].reverse()), "the order of the records");
});

test("a resend of the same records is a duplicate answered with the original offset, whatever its timestamps", () => {
  const d = new Driver();
  assert.equal(produced(d.send(0, records("a")))[0].baseOffset, 0);
  const resent = d.send(0, records("a").map((r, i) => ({ ...r, timestampMs: t0 + 50 + i })), t0 + 7000);
  assert.deepEqual(produced(resent), [{ topic: "t", partition: 0, baseOffset: 0, recordCount: 3, duplicate: true }]);
  assert.deepEqual(resent.mutations, []);
  assert.equal(d.highWatermark, 3);
});

test("other records under an appended batch's sequence are refused with SEQUENCE_REUSED, and nothing changes", () => {
  const d = new Driver();
  produced(d.send(0, records("a")));
  produced(d.send(3, records("b")));
  const before = { hw: d.highWatermark, cached: d.state.producerPartition(d.producer.producerId, "t", 0) };

  // kafkajs after a send that timed out although it was appended: the next records, the same sequence.
  const reused = d.send(3, records("c"));
  assert.equal(refusal(reused), "FAILED_PRECONDITION ERROR_REASON_SEQUENCE_REUSED");
  assert.match(reused.result.kind === "error" ? reused.result.error.message : "", /base_sequence 3 was already appended at offset 3 with other records/);
  assert.equal(refusal(d.send(0, records("b"))), "FAILED_PRECONDITION ERROR_REASON_SEQUENCE_REUSED", "an older remembered batch too");
  assert.deepEqual({ hw: d.highWatermark, cached: d.state.producerPartition(d.producer.producerId, "t", 0) }, before);

  assert.equal(produced(d.send(3, records("b")))[0].duplicate, true, "the genuine resend is still recognized");
  assert.equal(produced(d.send(6, records("c")))[0].baseOffset, 6, "the records go in under the next sequence");
});

test("a request holding a refused batch appends none of its batches", () => {
  const d = new Driver();
  produced(d.send(0, records("a")));
  const plain: ProduceCommandBatch = { topic: "t", partition: 0, blob: encodeRecordBatch(records("plain"), t0) };
  const outcome = d.run({ kind: CommandKind.Produce, nowMs: t0, batches: [plain, d.batch(3, records("b")), d.batch(3, records("c"))] });
  assert.equal(refusal(outcome), "FAILED_PRECONDITION ERROR_REASON_SEQUENCE_REUSED", "the second batch of the request took sequence 3");
  assert.equal(d.highWatermark, 3);
  const same = d.run({ kind: CommandKind.Produce, nowMs: t0, batches: [d.batch(3, records("b")), d.batch(3, records("b"))] });
  assert.deepEqual(produced(same).map((b) => [b.baseOffset, b.duplicate ?? false]), [[3, false], [3, true]], "inside one request, the same records are a duplicate");
});
