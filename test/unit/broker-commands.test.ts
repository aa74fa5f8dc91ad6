import { test } from "node:test";
import assert from "node:assert/strict";
import { Command, CommandKind, UnsupportedCommandError, decodeCommand, encodeCommand } from "../../src/broker/commands";
import { encodeRecordBatch } from "../../src/broker/record-batch";

const nowMs = 1_700_000_000_123;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

test("every command kind round-trips through the codec", () => {
  const blob = encodeRecordBatch([{ value: bytes("hello") }], nowMs);
  const commands: Command[] = [
    {
      kind: CommandKind.CreateTopic,
      nowMs,
      name: "orders.v1",
      partitions: 12,
      retentionMs: 7 * 24 * 3600 * 1000,
      retentionBytes: 2 ** 40,
      maxRecordBytes: 0,
    },
    { kind: CommandKind.DeleteTopic, nowMs, name: "orders.v1" },
    {
      kind: CommandKind.Produce,
      nowMs,
      batches: [
        { topic: "orders.v1", partition: 3, blob },
        { topic: "audit", partition: 0, blob },
      ],
    },
    { kind: CommandKind.Tick, nowMs },
    { kind: CommandKind.PutMember, nowMs, member: { id: 2 ** 40, incarnation: "0f1e2d3c", stayLearner: true, clientAddress: "h:7004", peerAddress: "h:7104" } },
    { kind: CommandKind.PutMember, nowMs, member: { id: 4, incarnation: "", stayLearner: false, clientAddress: "", peerAddress: "" } },
  ];
  for (const command of commands) {
    assert.deepEqual(decodeCommand(encodeCommand(command)), command);
  }
});

test("a decoded produce command's blobs are views of the entry, not copies", () => {
  const blob = encodeRecordBatch([{ value: bytes("x") }], nowMs);
  const entry = encodeCommand({ kind: CommandKind.Produce, nowMs, batches: [{ topic: "t", partition: 0, blob }] });
  const decoded = decodeCommand(entry);
  assert.equal(decoded.kind, CommandKind.Produce);
  if (decoded.kind !== CommandKind.Produce) return;
  assert.equal(decoded.batches[0].blob.buffer, entry.buffer);
  assert.deepEqual(decoded.batches[0].blob, blob);
});

test("an unknown kind, a truncated command and trailing bytes are refused as unsupported", () => {
  const tick = encodeCommand({ kind: CommandKind.Tick, nowMs });
  const unknown = Uint8Array.from(tick);
  unknown[0] = 200;
  assert.throws(() => decodeCommand(unknown), UnsupportedCommandError);
  assert.throws(() => decodeCommand(tick.subarray(0, 5)), UnsupportedCommandError);
  const longer = new Uint8Array(tick.length + 1);
  longer.set(tick);
  assert.throws(() => decodeCommand(longer), UnsupportedCommandError);
  const create = encodeCommand({
    kind: CommandKind.CreateTopic,
    nowMs,
    name: "t",
    partitions: 1,
    retentionMs: 0,
    retentionBytes: 0,
    maxRecordBytes: 0,
  });
  assert.throws(() => decodeCommand(create.subarray(0, create.length - 1)), UnsupportedCommandError);
});

test("values the codec cannot represent are refused at encoding, not silently wrapped", () => {
  assert.throws(() => encodeCommand({ kind: CommandKind.Tick, nowMs: -1 }), RangeError);
  assert.throws(
    () =>
      encodeCommand({
        kind: CommandKind.CreateTopic,
        nowMs,
        name: "t",
        partitions: -1,
        retentionMs: 0,
        retentionBytes: 0,
        maxRecordBytes: 0,
      }),
    RangeError,
  );
});
