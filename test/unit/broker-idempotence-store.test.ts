// The idempotent producers' state in LevelDB: written with the apply that changed it, restored on
// restart so deduplication survives it, removed with an expired producer, and carried by a snapshot to
// a node that never saw the commands.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApplyOutcome, BrokerState } from "../../src/broker/broker-state";
import { Command, CommandKind, ProducerStamp, encodeCommand } from "../../src/broker/commands";
import { maxCachedBatchesPerPartition } from "../../src/broker/producer-table";
import { encodeRecordBatch } from "../../src/broker/record-batch";
import type { ConfState } from "../../src/raft/types";
import { loadBrokerState } from "../../src/storage/broker-store";
import { type Db, openDatabase } from "../../src/storage/db";
import { APPLIED_KEY } from "../../src/storage/keys";
import { encodeApplied } from "../../src/storage/raft-codec";
import { exportState, importState } from "../../src/storage/snapshot-store";
import { EntryRefs } from "../../src/storage/entry-refs";
import { addAppliedEntry } from "../support/applied-entry";

const t0 = 1_700_000_000_000;
const conf: ConfState = { voters: [1], learners: [] };
const dirs: string[] = [];

after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function freshDb(): Promise<Db> {
  const dir = await mkdtemp(join(tmpdir(), "raftline-idempotence-"));
  dirs.push(dir);
  return openDatabase(dir);
}

/** Applies commands and writes their mutations with the applied index, one synced batch each, as the replica does. */
class Node {
  index = 0;
  readonly refs = new EntryRefs();
  constructor(
    readonly db: Db,
    public state = new BrokerState(),
  ) {
    this.index = state.appliedIndex;
  }

  async run(command: Command): Promise<ApplyOutcome> {
    const data = encodeCommand(command);
    const outcome = this.state.apply(++this.index, data);
    const batch = this.db.batch();
    addAppliedEntry(batch, this.index, data, outcome.mutations, this.refs);
    batch.put(APPLIED_KEY, encodeApplied(this.index, conf));
    await batch.write({ sync: true });
    return outcome;
  }

  async init(producerId = 0, nowMs = t0): Promise<{ producerId: number; epoch: number }> {
    const { result } = await this.run({ kind: CommandKind.InitProducer, nowMs, producerId });
    if (result.kind !== "producerInitialized") throw new Error(`init failed: ${result.kind}`);
    return { producerId: result.producerId, epoch: result.epoch };
  }

  send(producer: ProducerStamp, partition: number, count: number, nowMs = t0): Promise<ApplyOutcome> {
    const blob = encodeRecordBatch(Array.from({ length: count }, (_, i) => ({ value: Buffer.from(`v${i}`) })), nowMs);
    return this.run({ kind: CommandKind.Produce, nowMs, batches: [{ topic: "t", partition, blob, producer }] });
  }

  /** A restart: the state as loaded from this node's database. */
  async restarted(): Promise<Node> {
    return new Node(this.db, BrokerState.restore(await loadBrokerState(this.db), this.index));
  }
}

function outcomeOf(outcome: ApplyOutcome): string {
  if (outcome.result.kind === "error") return outcome.result.error.reason;
  if (outcome.result.kind !== "produced") return outcome.result.kind;
  const b = outcome.result.batches[0];
  return `${b.duplicate ? "duplicate" : "appended"}@${b.baseOffset}`;
}

const stamp = (p: { producerId: number; epoch: number }, baseSequence: number): ProducerStamp => ({ ...p, baseSequence });

/** Everything the producer rules decide with, as observable through the state's queries. */
function producerView(state: BrokerState, ids: number[]): unknown {
  return ids.map((id) => ({
    producer: state.producer(id),
    partitions: [0, 1].map((partition) => state.producerPartition(id, "t", partition)),
  }));
}

async function withTopic(db: Db): Promise<Node> {
  const node = new Node(db);
  await node.run({ kind: CommandKind.CreateTopic, nowMs: t0, name: "t", partitions: 2, retentionMs: 0, retentionBytes: 0, maxRecordBytes: 0 });
  return node;
}

test("a store without producers loads as before: no producer section", async () => {
  const db = await freshDb();
  const node = await withTopic(db);
  const loaded = await loadBrokerState(node.db);
  assert.equal(loaded.producers, undefined);
  await db.close();
});

test("restored from storage, a node still recognizes duplicates, gaps, fencing and the id counter", async () => {
  const db = await freshDb();
  const node = await withTopic(db);
  const a = await node.init();
  const b = await node.init();
  for (let i = 0; i < maxCachedBatchesPerPartition + 1; i++) assert.equal(outcomeOf(await node.send(stamp(a, i), 0, 1)), `appended@${i}`);
  assert.equal(outcomeOf(await node.send(stamp(a, 0), 1, 2)), "appended@0");
  assert.equal(outcomeOf(await node.send(stamp(b, 0), 1, 1)), "appended@2");
  const a1 = await node.init(a.producerId);

  const restarted = await node.restarted();
  assert.deepEqual(producerView(restarted.state, [1, 2, 3]), producerView(node.state, [1, 2, 3]));
  assert.equal(outcomeOf(await restarted.send(stamp(b, 0), 1, 1)), "duplicate@2");
  assert.equal(outcomeOf(await restarted.send(stamp(b, 2), 1, 1)), "ERROR_REASON_OUT_OF_ORDER_SEQUENCE");
  assert.equal(outcomeOf(await restarted.send(stamp(a, 6), 0, 1)), "ERROR_REASON_PRODUCER_FENCED");
  assert.equal(outcomeOf(await restarted.send(stamp(a1, 0), 0, 1)), "appended@6", "the new epoch starts at 0");
  assert.deepEqual(await restarted.init(), { producerId: 3, epoch: 0 });
  await db.close();
});

test("the last remembered batches survive a restart exactly, bounded per producer and partition", async () => {
  const db = await freshDb();
  const node = await withTopic(db);
  const p = await node.init();
  for (let i = 0; i < 2 * maxCachedBatchesPerPartition; i++) await node.send(stamp(p, i * 3), 0, 3);
  const restarted = await node.restarted();
  const cached = restarted.state.producerPartition(p.producerId, "t", 0);
  assert.equal(cached?.batches.length, maxCachedBatchesPerPartition);
  assert.deepEqual(cached, node.state.producerPartition(p.producerId, "t", 0));
  assert.equal(outcomeOf(await restarted.send(stamp(p, 9 * 3), 0, 3)), "duplicate@27");
  assert.equal(outcomeOf(await restarted.send(stamp(p, 4 * 3), 0, 3)), "ERROR_REASON_OUT_OF_ORDER_SEQUENCE");
  await db.close();
});

test("an expired producer's keys are deleted, so a restart does not bring it back", async () => {
  const db = await freshDb();
  const node = await withTopic(db);
  const gone = await node.init(0, t0);
  await node.send(stamp(gone, 0), 0, 1, t0);
  await node.send(stamp(gone, 0), 1, 1, t0);
  const kept = await node.init(0, t0 + 50);
  await node.run({ kind: CommandKind.Tick, nowMs: t0 + 120, producerExpiryMs: 100 });
  const restarted = await node.restarted();
  assert.equal(restarted.state.producer(gone.producerId), undefined);
  assert.ok(restarted.state.producer(kept.producerId));
  const loaded = await loadBrokerState(db);
  assert.deepEqual(loaded.producers?.partitions, [], "no sequence state is left behind");
  assert.equal(outcomeOf(await restarted.send(stamp(gone, 1), 0, 1, t0 + 130)), "ERROR_REASON_UNKNOWN_PRODUCER_ID");
  await db.close();
});

test("a snapshot carries the producers to a node that never applied their commands", async () => {
  const leader = await withTopic(await freshDb());
  const p = await leader.init();
  await leader.send(stamp(p, 0), 0, 2);
  await leader.send(stamp(p, 2), 0, 2);
  await leader.send(stamp(p, 0), 1, 1);

  const followerDb = await freshDb();
  const meta = { index: leader.index, term: 1, conf };
  await importState(followerDb, exportState(leader.db), meta);
  const follower = new Node(followerDb, BrokerState.restore(await loadBrokerState(followerDb), meta.index));
  assert.deepEqual(producerView(follower.state, [p.producerId]), producerView(leader.state, [p.producerId]));
  for (const node of [leader, follower]) {
    assert.equal(outcomeOf(await node.send(stamp(p, 2), 0, 2)), "duplicate@2");
    assert.equal(outcomeOf(await node.send(stamp(p, 1), 1, 1)), "appended@1");
  }
  assert.deepEqual(await follower.init(), await leader.init(), "the same next producer id");
  await leader.db.close();
  await followerDb.close();
});

/** Sends `count` records whose values carry `tag`, so two sends can hold different records. */
async function sendTagged(node: Node, producer: ProducerStamp, count: number, tag: string): Promise<ApplyOutcome> {
  const blob = encodeRecordBatch(Array.from({ length: count }, (_, i) => ({ value: Buffer.from(`${tag}${i}`) })), t0);
  return node.run({ kind: CommandKind.Produce, nowMs: t0, batches: [{ topic: "t", partition: 0, blob, producer }] });
}

test("remembered batches keep their fingerprints through a restart and a snapshot", async () => {
  const leader = await withTopic(await freshDb());
  const p = await leader.init();
  await sendTagged(leader, stamp(p, 0), 2, "a");
  await sendTagged(leader, stamp(p, 2), 2, "b");
  const cached = leader.state.producerPartition(p.producerId, "t", 0);
  assert.ok(cached?.batches.every((b) => b.fingerprint !== undefined));

  const restarted = await leader.restarted();
  const followerDb = await freshDb();
  const meta = { index: leader.index, term: 1, conf };
  await importState(followerDb, exportState(leader.db), meta);
  const follower = new Node(followerDb, BrokerState.restore(await loadBrokerState(followerDb), meta.index));
  for (const node of [restarted, follower]) {
    assert.deepEqual(node.state.producerPartition(p.producerId, "t", 0), cached);
    assert.equal(outcomeOf(await sendTagged(node, stamp(p, 2), 2, "b")), "duplicate@2");
    assert.equal(outcomeOf(await sendTagged(node, stamp(p, 2), 2, "c")), "ERROR_REASON_SEQUENCE_REUSED");
  }
  await leader.db.close();
  await followerDb.close();
});

/** Rewrites every stored sequence state in format version 1, as a version that kept no fingerprints wrote it. */
async function downgradeSequenceStates(db: Db): Promise<number> {
  const v1BatchBytes = 16;
  const v2BatchBytes = 21;
  let rewritten = 0;
  for await (const [key, value] of db.iterator({ keyEncoding: "buffer", valueEncoding: "buffer", gte: Buffer.from([0x16]), lt: Buffer.from([0x17]) })) {
    assert.equal(value[0], 2, "written in format 2");
    const count = value[5];
    const old = Buffer.alloc(6 + count * v1BatchBytes);
    value.copy(old, 0, 0, 6);
    old[0] = 1;
    for (let i = 0; i < count; i++) value.copy(old, 6 + i * v1BatchBytes, 6 + i * v2BatchBytes, 6 + i * v2BatchBytes + v1BatchBytes);
    await db.put(key, old, { keyEncoding: "buffer", valueEncoding: "buffer", sync: true });
    rewritten++;
  }
  return rewritten;
}

test("a sequence state stored without fingerprints (format 1) loads, and its batches match any records as before", async () => {
  const db = await freshDb();
  const node = await withTopic(db);
  const p = await node.init();
  await sendTagged(node, stamp(p, 0), 2, "a");
  await sendTagged(node, stamp(p, 2), 2, "b");
  assert.equal(await downgradeSequenceStates(db), 1);

  const restarted = await node.restarted();
  const loaded = restarted.state.producerPartition(p.producerId, "t", 0);
  assert.deepEqual(loaded?.batches, [
    { baseSequence: 0, recordCount: 2, baseOffset: 0 },
    { baseSequence: 2, recordCount: 2, baseOffset: 2 },
  ]);
  assert.equal(outcomeOf(await sendTagged(restarted, stamp(p, 2), 2, "other")), "duplicate@2", "unknown fingerprint: accepted as before");
  assert.equal(outcomeOf(await sendTagged(restarted, stamp(p, 4), 2, "c")), "appended@4");

  // The next write stores format 2 again: old batches stay unknown, the new one has its fingerprint.
  const again = await restarted.restarted();
  const mixed = again.state.producerPartition(p.producerId, "t", 0)?.batches ?? [];
  assert.deepEqual(mixed.map((b) => b.fingerprint !== undefined), [false, false, true]);
  assert.equal(outcomeOf(await sendTagged(again, stamp(p, 4), 2, "d")), "ERROR_REASON_SEQUENCE_REUSED");
  await db.close();
});
