import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClassicLevel } from "classic-level";
import { ApplyOutcome, BrokerState } from "../../src/broker/broker-state";
import { Command, CommandKind, encodeCommand } from "../../src/broker/commands";
import { recordsFrom } from "../../src/broker/fetch-records";
import { encodeRecordBatch } from "../../src/broker/record-batch";
import { loadBrokerState, readBatches } from "../../src/storage/broker-store";
import type { Db } from "../../src/storage/db";
import { EntryRefs } from "../../src/storage/entry-refs";
import { entryKey, isEntryKey } from "../../src/storage/keys";
import { addAppliedEntry } from "../support/applied-entry";

const t0 = 1_700_000_000_000;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);

let dir = "";
let db: Db;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "raftline-broker-store-"));
  db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: "buffer", valueEncoding: "buffer" });
  await db.open();
});

after(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

/**
 * Applies and writes each command the way the replica does: the raft entry (persisted before it is
 * applied), then one atomic, synced batch per apply.
 */
class Node {
  index = 0;
  compacted = 0;
  readonly refs = new EntryRefs();
  constructor(public state = new BrokerState()) {}

  async run(command: Command): Promise<ApplyOutcome> {
    const data = encodeCommand(command);
    const outcome = this.state.apply(++this.index, data);
    const batch = db.batch();
    addAppliedEntry(batch, this.index, data, outcome.mutations, this.refs);
    await batch.write({ sync: true });
    return outcome;
  }

  /** Compacts the raft log through `through` the way RaftStore does. */
  async compact(through: number): Promise<void> {
    const batch = db.batch();
    for (let i = this.compacted + 1; i <= through; i++) if (!this.refs.compactKeeps(i)) batch.del(entryKey(i));
    this.compacted = through;
    await batch.write({ sync: true });
  }

  produce(topic: string, partition: number, values: string[], timestampMs = t0): Promise<ApplyOutcome> {
    const blob = encodeRecordBatch(values.map((v) => ({ value: bytes(v), timestampMs })), t0);
    return this.run({ kind: CommandKind.Produce, nowMs: t0, batches: [{ topic, partition, blob }] });
  }

  create(name: string, partitions: number, retentionBytes = 0): Promise<ApplyOutcome> {
    return this.run({ kind: CommandKind.CreateTopic, nowMs: t0, name, partitions, retentionMs: 0, retentionBytes, maxRecordBytes: 0 });
  }
}

function observe(state: BrokerState): unknown {
  return state.listTopics().map((t) => state.describeTopic(t.name));
}

/** How many batches of topic `id` the stored index still holds. */
async function storedBatches(id: number): Promise<number> {
  const loaded = await loadBrokerState(db);
  return loaded.partitions.filter((p) => p.topicId === id).reduce((n, p) => n + p.entries.length, 0);
}

async function fetch(node: Node, topic: string, partition: number, offset: number, maxBytes: number): Promise<string[]> {
  const location = node.state.locate(topic, partition, offset, maxBytes);
  const batches = await readBatches(db, location.batches);
  return recordsFrom(batches, offset, maxBytes).map((r) => `${r.offset}:${text(r.value)}`);
}

test("an empty database loads as an empty state", async () => {
  const loaded = await loadBrokerState(db);
  assert.deepEqual(loaded, { nextTopicId: 1, topics: [], partitions: [] });
});

test("a directory from the build that stored each record twice (format 1) is refused by name, not misread", async () => {
  const dir = await mkdtemp(join(tmpdir(), "raftline-broker-store-v1-"));
  const old = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: "buffer", valueEncoding: "buffer" });
  await old.open();
  try {
    await old.put(Buffer.from([0x10]), Buffer.from([1, 0, 0, 0, 2]));
    await assert.rejects(loadBrokerState(old), /broker state format 1 is not supported \(this build reads 2\).*stored each record twice.*empty data directory/);
  } finally {
    await old.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("apply, write, restore: the restored state equals the live one and continues identically", async () => {
  const node = new Node();
  await node.create("orders", 3, 150);
  await node.create("gone", 1);
  for (let i = 0; i < 9; i++) await node.produce("orders", i % 3, [`v${i}`.repeat(20), `w${i}`]);
  await node.produce("gone", 0, ["bye"]);
  await node.run({ kind: CommandKind.DeleteTopic, nowMs: t0, name: "gone" });
  await node.run({ kind: CommandKind.Tick, nowMs: t0 });
  await node.create("gone", 2);

  const restored = new Node(BrokerState.restore(await loadBrokerState(db), node.index));
  restored.index = node.index;
  assert.deepEqual(observe(restored.state), observe(node.state));
  assert.ok(node.state.partitionInfo("orders", 0).startOffset > 0, "retention moved the start, and restore kept it");

  // Both continue from here with the same answers (the restored one writes; the live one only applies).
  const nextLive = node.state.apply(node.index + 1, encodeCommand({ kind: CommandKind.Produce, nowMs: t0, batches: [{ topic: "gone", partition: 1, blob: encodeRecordBatch([{ value: bytes("new") }], t0) }] }));
  const nextRestored = await restored.run({ kind: CommandKind.Produce, nowMs: t0, batches: [{ topic: "gone", partition: 1, blob: encodeRecordBatch([{ value: bytes("new") }], t0) }] });
  assert.deepEqual(nextRestored, nextLive);
  assert.equal(restored.state.requireTopic("gone").id, 3, "a re-created topic never reuses an id, across restarts too");
  assert.deepEqual(await fetch(restored, "gone", 1, 0, 1 << 20), ["0:new"]);
});

test("fetch reads the right blobs: from inside a batch, bounded by bytes, never another partition", async () => {
  const node = new Node(BrokerState.restore(await loadBrokerState(db), 1000));
  node.index = 1000;
  await node.create("fetch", 2);
  await node.produce("fetch", 0, ["a", "b", "c"]);
  await node.produce("fetch", 0, ["d"]);
  await node.produce("fetch", 0, ["e", "f"]);
  await node.produce("fetch", 1, ["other"]);
  assert.deepEqual(await fetch(node, "fetch", 0, 0, 1 << 20), ["0:a", "1:b", "2:c", "3:d", "4:e", "5:f"]);
  assert.deepEqual(await fetch(node, "fetch", 0, 2, 1 << 20), ["2:c", "3:d", "4:e", "5:f"]);
  assert.deepEqual(await fetch(node, "fetch", 0, 5, 1 << 20), ["5:f"]);
  assert.deepEqual(await fetch(node, "fetch", 0, 6, 1 << 20), [], "at the high watermark: nothing yet");
  assert.deepEqual(await fetch(node, "fetch", 0, 1, 1), ["1:b"], "at least one record");
  assert.deepEqual(await fetch(node, "fetch", 1, 0, 1 << 20), ["0:other"]);

  const oneBatch = await readBatches(db, node.state.locate("fetch", 0, 0, 1).batches);
  assert.equal(oneBatch.length, 1, "the byte bound stops after the first batch");
  const all = await readBatches(db, node.state.locate("fetch", 0, 0, 1 << 20).batches);
  assert.deepEqual(
    all.map((b) => b.baseOffset),
    [0, 3, 4],
  );
});

test("a batch is stored once, in its raft entry: compaction keeps the entry while a batch is in it, removal then deletes it", async () => {
  const node = new Node(BrokerState.restore(await loadBrokerState(db), 2000));
  node.index = 2000;
  node.compacted = 2000;
  node.refs.reset([], 2000);
  await node.create("doomed", 2);
  await node.produce("doomed", 0, ["x"]);
  await node.produce("doomed", 1, ["y"]);
  const entryStored = async (index: number): Promise<boolean> => (await db.get(entryKey(index))) !== undefined;
  await node.compact(2002);
  assert.deepEqual([await entryStored(2001), await entryStored(2002), await entryStored(2003)], [false, true, true], "the create goes, the entry holding x stays");
  const { id } = node.state.requireTopic("doomed");
  await node.run({ kind: CommandKind.DeleteTopic, nowMs: t0, name: "doomed" });
  assert.equal(await storedBatches(id), 2, "still on disk until a tick");
  await node.run({ kind: CommandKind.Tick, nowMs: t0 });
  assert.equal(await storedBatches(id), 0);
  assert.equal(await entryStored(2002), false, "a compacted entry goes with its last batch");
  assert.equal(await entryStored(2003), true, "an entry still in the log waits for compaction");
  await node.compact(node.index);
  assert.equal(await entryStored(2003), false);
  const loaded = await loadBrokerState(db);
  assert.equal(loaded.topics.some((t) => t.id === id), false);
  assert.equal(loaded.partitions.some((p) => p.topicId === id), false);
});

test("an entry holding batches of several partitions stays until the last of them is removed", async () => {
  const node = new Node(BrokerState.restore(await loadBrokerState(db), 3000));
  node.index = 3000;
  node.compacted = 3000;
  node.refs.reset([], 3000);
  await node.create("both", 2, 1);
  const batch = (v: string) => encodeRecordBatch([{ value: bytes(v), timestampMs: t0 }], t0);
  await node.run({ kind: CommandKind.Produce, nowMs: t0, batches: [{ topic: "both", partition: 0, blob: batch("a0") }, { topic: "both", partition: 1, blob: batch("a1") }] });
  await node.compact(node.index);
  assert.ok(node.refs.isShared(3002));
  await node.produce("both", 0, ["b0"]);
  await node.run({ kind: CommandKind.Tick, nowMs: t0 });
  assert.equal(node.state.partitionInfo("both", 0).startOffset, 1, "retention removed a0");
  assert.deepEqual(await fetch(node, "both", 0, 1, 1 << 20), ["1:b0"]);
  assert.notEqual(await db.get(entryKey(3002)), undefined, "partition 1 still holds a batch in it");
  assert.deepEqual(await fetch(node, "both", 1, 0, 1 << 20), ["0:a1"]);
  await node.produce("both", 1, ["b1"]);
  await node.run({ kind: CommandKind.Tick, nowMs: t0 });
  assert.equal(await db.get(entryKey(3002)), undefined, "the last batch in it is gone, so is the entry");
  assert.deepEqual(await fetch(node, "both", 1, 1, 1 << 20), ["1:b1"]);
});

test("member records: applied, written under 0x1E, restored; a later record replaces the earlier one; bad ones refused", async () => {
  const node = new Node();
  const member = { id: 4, incarnation: "", stayLearner: true, clientAddress: "h:7004", peerAddress: "h:7104" };
  await node.run({ kind: CommandKind.PutMember, nowMs: t0, member });
  const recorded = await node.run({ kind: CommandKind.PutMember, nowMs: t0, member: { ...member, incarnation: "abc", stayLearner: false } });
  assert.equal(recorded.result.kind, "memberRecorded");
  const bad = await node.run({ kind: CommandKind.PutMember, nowMs: t0, member: { ...member, incarnation: "x".repeat(65) } });
  assert.equal(bad.result.kind, "error");
  assert.deepEqual(bad.mutations, []);
  const restored = BrokerState.restore(await loadBrokerState(db), node.index);
  assert.deepEqual(restored.members(), [{ ...member, incarnation: "abc", stayLearner: false }]);
  assert.deepEqual(restored.member(4), node.state.member(4));
  assert.equal(restored.member(5), undefined);
});

test("every key the broker writes lies in the broker range 0x10..0x1F (the raft entries here are the test's)", async () => {
  for await (const key of db.keys({ keyEncoding: "buffer" })) {
    assert.ok(isEntryKey(key) || (key[0] >= 0x10 && key[0] <= 0x1f), `key ${key.toString("hex")}`);
  }
});
