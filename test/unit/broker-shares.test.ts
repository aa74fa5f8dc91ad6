// The share groups in the pure state machine: acquisition under a lock, acks, lock expiry and backoff
// judged from command times, the delivery limit, the one-step dead letter, the bounded window, the codec,
// and a restore from storage that continues identically.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClassicLevel } from "classic-level";
import { ApplyOutcome, BrokerState } from "../../src/broker/broker-state";
import { Command, CommandKind, decodeCommand, encodeCommand } from "../../src/broker/commands";
import { decodeRecordBatch, encodeRecordBatch } from "../../src/broker/record-batch";
import { ShareAckType, ShareCommandKind, type ShareAck } from "../../src/broker/share-commands";
import type { ShareConfig } from "../../src/broker/share-records";
import type { AcquiredRecord } from "../../src/broker/share-table";
import { addMutations, loadBrokerState } from "../../src/storage/broker-store";
import type { Db } from "../../src/storage/db";
import { EntryRefs } from "../../src/storage/entry-refs";

const t0 = 1_700_000_000_000;

const config: ShareConfig = {
  deliveryLimit: 3,
  lockTimeoutMs: 1000,
  backoffInitialMs: 100,
  backoffMaxMs: 250,
  maxInFlightPerPartition: 4,
  deadLetterTopic: "t.dlq",
};

class Driver {
  index = 0;
  readonly writes: ApplyOutcome["mutations"][] = [];
  constructor(public state = new BrokerState()) {}

  run(command: Command): ApplyOutcome {
    const out = this.state.apply(++this.index, encodeCommand(command));
    this.writes.push(out.mutations);
    return out;
  }

  ok(command: Command): ApplyOutcome {
    const out = this.run(command);
    if (out.result.kind === "error") assert.fail(`refused: ${out.result.error.reason} ${out.result.error.message}`);
    return out;
  }

  reason(command: Command): string {
    const out = this.run(command);
    if (out.result.kind !== "error") return "accepted";
    assert.equal(out.mutations.length, 0, "a refused command changes nothing");
    return out.result.error.reason;
  }

  setup(partitions = 1, records = 6): void {
    for (const [name, p] of [["t", partitions], ["t.dlq", 1]] as const) {
      this.ok({ kind: CommandKind.CreateTopic, nowMs: t0, name, partitions: p, retentionMs: 0, retentionBytes: 0, maxRecordBytes: 0 });
    }
    for (let p = 0; p < partitions; p++) {
      const blob = encodeRecordBatch(Array.from({ length: records }, (_, i) => ({ value: new TextEncoder().encode(`${p}-${i}`) })), t0);
      this.ok({ kind: CommandKind.Produce, nowMs: t0, batches: [{ topic: "t", partition: p, blob }] });
    }
    this.ok({ kind: ShareCommandKind.ShareCreate, nowMs: t0, groupId: "q", topic: "t", config, replace: false });
  }

  acquire(consumerId: string, nowMs: number, maxRecords = 10, partitions = [0]): AcquiredRecord[] {
    const out = this.ok({ kind: ShareCommandKind.ShareAcquire, nowMs, groupId: "q", consumerId, maxRecords, partitions });
    assert.equal(out.result.kind, "shareAcquired");
    return out.result.kind === "shareAcquired" ? out.result.records : [];
  }

  ack(consumerId: string, nowMs: number, acks: Partial<ShareAck>[]): (string | undefined)[] {
    const full = acks.map((a) => ({ partition: 0, offset: 0, type: ShareAckType.Accept, delayMs: 0, deliveryCount: 0, ...a }));
    const out = this.ok({ kind: ShareCommandKind.ShareAck, nowMs, groupId: "q", consumerId, acks: full });
    return out.result.kind === "shareAcked" ? out.result.outcomes.map((e) => e?.reason) : [];
  }

  deadLetter(nowMs: number, entries: { offset: number; rejectedBy: string }[]): Command {
    const blob = encodeRecordBatch(entries.map((e) => ({ value: new TextEncoder().encode(`dead ${e.offset}`) })), nowMs);
    const deliveryCount = (offset: number): number => this.state.shares.recordState("q", 0, offset)?.deliveryCount ?? 0;
    return { kind: ShareCommandKind.ShareDeadLetter, nowMs, groupId: "q", entries: entries.map((e) => ({ partition: 0, deliveryCount: deliveryCount(e.offset), ...e })), blob };
  }
}

const offsets = (rs: AcquiredRecord[]): number[] => rs.map((r) => r.offset);

test("acquisition takes the window's first records under a lock; the window is bounded", () => {
  const d = new Driver();
  d.setup();
  const first = d.acquire("a", t0, 10);
  assert.deepEqual(offsets(first), [0, 1, 2, 3], "max_in_flight_per_partition = 4");
  assert.deepEqual(first.map((r) => r.deliveryCount), [1, 1, 1, 1]);
  assert.equal(first[0].lockUntilMs, t0 + 1000);
  assert.deepEqual(d.acquire("b", t0 + 10), [], "a full window hands out nothing");
  assert.deepEqual(d.ack("a", t0 + 20, [{ offset: 0 }, { offset: 1 }]), [undefined, undefined]);
  assert.deepEqual(offsets(d.acquire("b", t0 + 30)), [4, 5], "accepting the head moved the start and freed the window");
});

test("acks: only the holder, only under its lock; answered records are never handed out again", () => {
  const d = new Driver();
  d.setup();
  d.acquire("a", t0, 2);
  assert.deepEqual(d.ack("b", t0 + 1, [{ offset: 0 }]), ["ERROR_REASON_NOT_RECORD_OWNER"]);
  assert.deepEqual(d.ack("a", t0 + 1, [{ offset: 3 }]), ["ERROR_REASON_RECORD_NOT_ACQUIRED"], "never delivered");
  assert.deepEqual(d.ack("a", t0 + 1000, [{ offset: 1 }]), ["ERROR_REASON_LOCK_EXPIRED"], "the lock runs out at lockUntilMs");
  assert.deepEqual(d.ack("a", t0 + 1, [{ offset: 0 }]), [undefined]);
  assert.deepEqual(d.ack("a", t0 + 2, [{ offset: 0 }]), ["ERROR_REASON_RECORD_NOT_ACQUIRED"], "already accepted");
  assert.throws(() => d.state.shares.checkAcks("q", "a", [{ partition: 0, offset: 0, deliveryCount: 0 }], t0 + 3, d.state.topicView), /not acquired/);
  // Offset 1's lock ran out: it is handed out again (with no backoff owed yet at +100 ms) and 0 never is.
  assert.deepEqual(offsets(d.acquire("b", t0 + 1100, 1)), [1]);
  assert.equal(d.state.shares.recordState("q", 0, 1)?.deliveryCount, 2);
});

test("an answer names its delivery: one to an earlier delivery whose lock ran out settles nothing", () => {
  const d = new Driver();
  d.setup();
  d.acquire("a", t0, 1);
  assert.equal(d.acquire("a", t0 + 1100, 1)[0].deliveryCount, 2, "the same consumer took it again after its lock ran out (and the backoff)");
  assert.deepEqual(d.ack("a", t0 + 1101, [{ offset: 0, deliveryCount: 1 }]), ["ERROR_REASON_LOCK_EXPIRED"]);
  assert.equal(d.state.shares.stateAt("q", 0, 0, t0 + 1101), "acquired");
  assert.deepEqual(d.ack("a", t0 + 1101, [{ offset: 0, deliveryCount: 2 }]), [undefined]);
});

test("renew extends the lock; release waits for the longer of its delay and the backoff", () => {
  const d = new Driver();
  d.setup();
  d.acquire("a", t0, 3);
  assert.deepEqual(d.ack("a", t0 + 900, [{ offset: 0, type: ShareAckType.Renew }]), [undefined]);
  assert.equal(d.state.shares.stateAt("q", 0, 0, t0 + 1500), "acquired", "renewed at +900 until +1900");
  assert.deepEqual(d.ack("a", t0 + 10, [{ offset: 1, type: ShareAckType.Release }, { offset: 2, type: ShareAckType.Release, delayMs: 500 }]), [undefined, undefined]);
  assert.deepEqual(offsets(d.acquire("b", t0 + 109, 10)), [3], "backoff after the first delivery is 100 ms");
  assert.deepEqual(offsets(d.acquire("b", t0 + 110, 10)), [1]);
  assert.deepEqual(offsets(d.acquire("b", t0 + 510, 10)), [2], "the release delay was longer");
});

test("the delivery limit: no further delivery; one command dead-letters and retires the record, once", () => {
  const d = new Driver();
  d.setup();
  let now = t0;
  for (let delivery = 1; delivery <= 3; delivery++) {
    const got = d.acquire("a", now, 1);
    assert.deepEqual(offsets(got), [0]);
    assert.equal(got[0].deliveryCount, delivery);
    d.ack("a", now + 1, [{ offset: 0, type: ShareAckType.Release }]);
    now += 1000;
  }
  assert.deepEqual(d.state.shares.deadLettersDue("q", now, 10), [{ partition: 0, offset: 0, deliveryCount: 3 }]);
  assert.notEqual(offsets(d.acquire("b", now, 1))[0], 0, "not handed out past the limit");
  assert.equal(d.reason(d.deadLetter(now, [{ offset: 1, rejectedBy: "" }])), "ERROR_REASON_RECORD_NOT_ACQUIRED", "not due");
  const out = d.ok(d.deadLetter(now, [{ offset: 0, rejectedBy: "" }]));
  assert.equal(out.result.kind, "shareDeadLettered");
  assert.equal(d.state.partitionInfo("t.dlq", 0).highWatermark, 1);
  assert.equal(d.state.shares.stateAt("q", 0, 0, now), "done");
  assert.equal(d.reason(d.deadLetter(now, [{ offset: 0, rejectedBy: "" }])), "ERROR_REASON_RECORD_NOT_ACQUIRED", "never twice");
  assert.equal(d.state.partitionInfo("t.dlq", 0).highWatermark, 1);
});

test("reject: only the holder under its lock; a missing dead-letter topic refuses it and changes nothing", () => {
  const d = new Driver();
  d.setup();
  d.acquire("a", t0, 2);
  assert.equal(d.reason(d.deadLetter(t0 + 1, [{ offset: 0, rejectedBy: "b" }])), "ERROR_REASON_NOT_RECORD_OWNER");
  d.ok({ kind: CommandKind.DeleteTopic, nowMs: t0, name: "t.dlq" });
  assert.equal(d.reason(d.deadLetter(t0 + 1, [{ offset: 0, rejectedBy: "a" }])), "ERROR_REASON_UNKNOWN_TOPIC");
  assert.equal(d.state.shares.stateAt("q", 0, 0, t0 + 1), "acquired");
});

test("bad configurations and unknown groups are refused", () => {
  const d = new Driver();
  d.setup();
  const create = (c: Partial<ShareConfig>, topic = "t"): Command => ({ kind: ShareCommandKind.ShareCreate, nowMs: t0, groupId: "z", topic, config: { ...config, ...c }, replace: false });
  assert.equal(d.reason(create({ deliveryLimit: 1000 })), "ERROR_REASON_INVALID_FIELD");
  assert.equal(d.reason(create({ lockTimeoutMs: 5 })), "ERROR_REASON_INVALID_FIELD");
  assert.equal(d.reason(create({ backoffInitialMs: 500, backoffMaxMs: 100 })), "ERROR_REASON_INVALID_FIELD");
  assert.equal(d.reason(create({ deadLetterTopic: "t" })), "ERROR_REASON_INVALID_FIELD");
  assert.equal(d.reason(create({}, "nope")), "ERROR_REASON_UNKNOWN_TOPIC");
  assert.equal(d.reason({ kind: ShareCommandKind.ShareCreate, nowMs: t0, groupId: "q", topic: "t.dlq", config: { ...config, deadLetterTopic: "x" }, replace: false }), "ERROR_REASON_UNKNOWN_TOPIC");
  assert.equal(d.reason({ kind: ShareCommandKind.ShareAcquire, nowMs: t0, groupId: "nope", consumerId: "a", maxRecords: 1, partitions: [0] }), "ERROR_REASON_UNKNOWN_SHARE_GROUP");
  assert.equal(d.reason({ kind: ShareCommandKind.ShareAcquire, nowMs: t0, groupId: "q", consumerId: "a", maxRecords: 1, partitions: [7] }), "ERROR_REASON_INVALID_PARTITION");
});

test("every share command survives its codec", () => {
  const d = new Driver();
  const commands: Command[] = [
    { kind: ShareCommandKind.ShareCreate, nowMs: t0, groupId: "q", topic: "t", config, replace: true },
    { kind: ShareCommandKind.ShareAcquire, nowMs: t0, groupId: "q", consumerId: "c-1", maxRecords: 7, partitions: [2, 0, 1] },
    { kind: ShareCommandKind.ShareAck, nowMs: t0, groupId: "q", consumerId: "c", acks: [{ partition: 1, offset: 2 ** 40, type: ShareAckType.Release, delayMs: 9, deliveryCount: 3 }] },
    d.deadLetter(t0, [{ offset: 3, rejectedBy: "c" }]),
  ];
  for (const c of commands) assert.deepEqual(decodeCommand(encodeCommand(c)), c);
  const dead = decodeCommand(encodeCommand(commands[3]));
  assert.ok(dead.kind === ShareCommandKind.ShareDeadLetter && decodeRecordBatch(dead.blob, 0).length === 1);
});

test("restored from storage, the share state answers and continues like the live one", async () => {
  const dir = await mkdtemp(join(tmpdir(), "raftline-shares-"));
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: "buffer", valueEncoding: "buffer" }) as unknown as Db;
  await db.open();
  try {
    const live = new Driver();
    live.setup(2, 6);
    live.acquire("a", t0, 3, [0, 1]);
    live.ack("a", t0 + 1, [{ offset: 0 }, { offset: 1, type: ShareAckType.Release }]);
    live.acquire("b", t0 + 5, 2, [1, 0]);
    live.ok(live.deadLetter(t0 + 6, [{ offset: 2, rejectedBy: "a" }]));
    for (const mutations of live.writes) {
      const batch = db.batch();
      addMutations(batch, mutations, new EntryRefs());
      await batch.write({ sync: true });
    }
    const restored = new Driver(BrokerState.restore(await loadBrokerState(db), live.index));
    restored.index = live.index;
    assert.deepEqual(restored.state.shares.counts("q", t0 + 10), live.state.shares.counts("q", t0 + 10));
    assert.deepEqual(restored.state.shares.group("q"), live.state.shares.group("q"));
    const later = t0 + 5000;
    assert.deepEqual(restored.acquire("c", later, 10, [0, 1]), live.acquire("c", later, 10, [0, 1]));
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("a window stored one record per key (format 1) loads, and its next write replaces those keys with runs", async () => {
  const dir = await mkdtemp(join(tmpdir(), "raftline-shares-"));
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: "buffer", valueEncoding: "buffer" }) as unknown as Db;
  await db.open();
  try {
    const live = new Driver();
    live.setup(1, 6);
    live.acquire("a", t0, 3);
    live.ack("a", t0 + 1, [{ offset: 1 }, { offset: 2, type: ShareAckType.Release }]);
    // The same state as an earlier build stored it: format 1 partition, one key per record.
    const batch = db.batch();
    for (const mutations of live.writes) addMutations(batch, mutations.filter((m) => m.kind !== "putSharePartition"), new EntryRefs());
    const key = (prefix: number, extra: number[]): Buffer => Buffer.concat([Buffer.from([prefix, 0, 1]), Buffer.from("q"), Buffer.from([0, 0, 0, 0, ...extra])]);
    const u64 = (n: number): number[] => [...Buffer.from(BigInt(n).toString(16).padStart(16, "0"), "hex")];
    batch.put(key(0x1a, []), Buffer.from([1, ...u64(0), ...u64(3)]));
    for (const offset of [0, 1, 2]) {
      const r = live.state.shares.recordState("q", 0, offset)!;
      const owner = Buffer.from(r.owner);
      const state = ["acquired", "available", "accepted", "deadLettered"].indexOf(r.state);
      const value = Buffer.from([1, state, 0, 0, 0, r.deliveryCount, ...u64(r.lockUntilMs), ...u64(r.availableAtMs), 0, owner.length, ...owner]);
      batch.put(key(0x1b, u64(offset)), value);
    }
    await batch.write({ sync: true });
    const restored = new Driver(BrokerState.restore(await loadBrokerState(db), live.index));
    restored.index = live.index;
    assert.deepEqual(restored.state.shares.counts("q", t0 + 10), live.state.shares.counts("q", t0 + 10));
    const later = t0 + 5000;
    const out = restored.ok({ kind: ShareCommandKind.ShareAcquire, nowMs: later, groupId: "q", consumerId: "c", maxRecords: 10, partitions: [0] });
    assert.ok(out.mutations.some((m) => m.kind === "deleteShareRecords" && m.offsets.join() === "0,1,2"));
    live.acquire("c", later, 10);
    const next = db.batch();
    addMutations(next, out.mutations, new EntryRefs());
    await next.write({ sync: true });
    let legacyKeys = 0;
    for await (const k of db.keys({ gte: Buffer.from([0x1b]), lt: Buffer.from([0x1c]) })) legacyKeys += k.length > 0 ? 1 : 0;
    assert.equal(legacyKeys, 0, "the record keys are gone");
    const again = BrokerState.restore(await loadBrokerState(db), restored.index);
    assert.deepEqual(again.shares.counts("q", later + 1), live.state.shares.counts("q", later + 1));
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("a window of many alike records is one stored run; a partition of an unknown format is refused clearly", async () => {
  const dir = await mkdtemp(join(tmpdir(), "raftline-shares-"));
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: "buffer", valueEncoding: "buffer" }) as unknown as Db;
  await db.open();
  try {
    const live = new Driver();
    live.setup(1, 6);
    const out = live.ok({ kind: ShareCommandKind.ShareAcquire, nowMs: t0, groupId: "q", consumerId: "a", maxRecords: 4, partitions: [0] });
    const put = out.mutations.find((m) => m.kind === "putSharePartition");
    assert.ok(put && put.kind === "putSharePartition");
    assert.deepEqual(
      put.partition.runs.map((r) => [r.first, r.count, r.state]),
      [[0, 4, "acquired"]],
    );
    const batch = db.batch();
    batch.put(Buffer.from([0x1a, 0, 1, 0x71, 0, 0, 0, 0]), Buffer.from([9, 0]));
    await batch.write({ sync: true });
    await assert.rejects(loadBrokerState(db), /share partition format 9 is not supported \(this build reads 1, 2\)/);
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("a group whose topic was deleted and created again starts afresh on the new topic when created again", () => {
  const d = new Driver();
  d.setup(2, 6);
  d.acquire("a", t0, 3, [0, 1]);
  d.ack("a", t0 + 1, [{ offset: 0 }]);
  d.ok({ kind: CommandKind.DeleteTopic, nowMs: t0 + 2, name: "t" });
  assert.equal(d.reason({ kind: ShareCommandKind.ShareAcquire, nowMs: t0 + 3, groupId: "q", consumerId: "a", maxRecords: 1, partitions: [0] }), "ERROR_REASON_UNKNOWN_SHARE_GROUP");
  d.ok({ kind: CommandKind.CreateTopic, nowMs: t0 + 4, name: "t", partitions: 1, retentionMs: 0, retentionBytes: 0, maxRecordBytes: 0 });
  const blob = encodeRecordBatch([{ value: new TextEncoder().encode("new") }], t0);
  d.ok({ kind: CommandKind.Produce, nowMs: t0 + 5, batches: [{ topic: "t", partition: 0, blob }] });
  const out = d.ok({ kind: ShareCommandKind.ShareCreate, nowMs: t0 + 6, groupId: "q", topic: "t", config, replace: false });
  assert.ok(out.result.kind === "shareGroupCreated" && out.result.created && out.result.group.acceptedTotal === 0);
  assert.ok(out.mutations.some((m) => m.kind === "deleteSharePartition" && m.partition === 1), "the partition the new topic lacks is removed");
  assert.deepEqual(d.state.shares.counts("q", t0 + 7).map((c) => [c.partition, c.startOffset, c.windowEnd]), [[0, 0, 0]]);
  assert.deepEqual(d.ack("a", t0 + 7, [{ offset: 1 }]), ["ERROR_REASON_RECORD_NOT_ACQUIRED"], "an answer to the old topic's record settles nothing");
  assert.deepEqual(offsets(d.acquire("b", t0 + 8, 10)), [0]);
  assert.equal(d.reason({ kind: ShareCommandKind.ShareCreate, nowMs: t0 + 9, groupId: "q", topic: "t.dlq", config: { ...config, deadLetterTopic: "t" }, replace: false }), "ERROR_REASON_SHARE_GROUP_EXISTS");
});

// ---- DeleteShareGroup (ShareDelete) ----

const deleteCommand = (nowMs: number, force = false, groupId = "q"): Command => ({ kind: ShareCommandKind.ShareDelete, nowMs, groupId, force });

/** Every key and value of the store, as hex, in key order. */
async function dump(db: Db): Promise<string[]> {
  const out: string[] = [];
  for await (const [k, v] of db.iterator({ keyEncoding: "buffer", valueEncoding: "buffer" })) out.push(`${k.toString("hex")}=${v.toString("hex")}`);
  return out;
}

async function withDb(body: (db: Db) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "raftline-shares-"));
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: "buffer", valueEncoding: "buffer" }) as unknown as Db;
  await db.open();
  try {
    await body(db);
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function write(db: Db, mutations: ApplyOutcome["mutations"][]): Promise<void> {
  const batch = db.batch();
  for (const m of mutations) addMutations(batch, m, new EntryRefs());
  await batch.write({ sync: true });
}

test("delete: refused while a record is held under an unexpired lock, judged at the command's time; allowed once it ran out", () => {
  const d = new Driver();
  d.setup();
  d.acquire("a", t0, 2);
  d.ack("a", t0 + 1, [{ offset: 0 }]);
  assert.equal(d.reason(deleteCommand(t0 + 999)), "ERROR_REASON_SHARE_GROUP_IN_USE", "offset 1 is locked until +1000");
  assert.throws(() => d.state.shares.checkDelete("q", t0 + 999, false, d.state.topicView), /in use/);
  assert.ok(d.state.shares.group("q"), "the refusal changed nothing");
  assert.equal(d.state.shares.stateAt("q", 0, 1, t0 + 999), "acquired");
  const out = d.ok(deleteCommand(t0 + 1000));
  assert.deepEqual(out.result, { kind: "shareGroupDeleted", groupId: "q", topic: "t", abandonedLocks: 0 });
  assert.equal(d.state.shares.group("q"), undefined);
  assert.deepEqual(d.state.shares.groupIds(), []);
});

test("delete with force: refused nothing, abandons the locks; answers to its records are refused; unknown groups are NOT_FOUND", () => {
  const d = new Driver();
  d.setup(2, 6);
  d.acquire("a", t0, 3, [0, 1]);
  const out = d.ok(deleteCommand(t0 + 10, true));
  assert.ok(out.result.kind === "shareGroupDeleted" && out.result.abandonedLocks === 3);
  assert.deepEqual(
    out.mutations.map((m) => m.kind),
    ["deleteSharePartition", "deleteSharePartition", "deleteShareGroup"],
  );
  assert.equal(d.reason({ kind: ShareCommandKind.ShareAck, nowMs: t0 + 11, groupId: "q", consumerId: "a", acks: [{ partition: 0, offset: 0, type: ShareAckType.Accept, delayMs: 0, deliveryCount: 0 }] }), "ERROR_REASON_UNKNOWN_SHARE_GROUP");
  assert.equal(d.reason({ kind: ShareCommandKind.ShareAcquire, nowMs: t0 + 11, groupId: "q", consumerId: "a", maxRecords: 1, partitions: [0] }), "ERROR_REASON_UNKNOWN_SHARE_GROUP");
  assert.equal(d.reason(deleteCommand(t0 + 12, true)), "ERROR_REASON_UNKNOWN_SHARE_GROUP", "deleted once only");
  assert.equal(d.reason(deleteCommand(t0 + 12, false, "never")), "ERROR_REASON_UNKNOWN_SHARE_GROUP");
  assert.equal(d.reason(deleteCommand(t0 + 12, false, "bad/id")), "ERROR_REASON_INVALID_GROUP_ID");
  assert.equal(d.state.partitionInfo("t", 0).highWatermark, 6, "the topic keeps its records");
  assert.ok(d.state.topic("t.dlq"), "the dead-letter topic stays");
});

test("a group whose topic was deleted is never in use: delete removes it without force", () => {
  const d = new Driver();
  d.setup();
  d.acquire("a", t0, 2);
  d.ok({ kind: CommandKind.DeleteTopic, nowMs: t0 + 1, name: "t" });
  assert.equal(d.state.shares.hasDeliverable("q", t0 + 5000, d.state.topicView), false, "nothing to hand out, and no throw");
  assert.deepEqual(d.ok(deleteCommand(t0 + 2)).result, { kind: "shareGroupDeleted", groupId: "q", topic: "t", abandonedLocks: 0 });
});

test("created again after a delete, a group starts afresh: the same as one never created", () => {
  const fresh = new Driver();
  fresh.setup();
  const d = new Driver();
  d.setup();
  d.acquire("a", t0, 4);
  d.ack("a", t0 + 1, [{ offset: 0 }, { offset: 1, type: ShareAckType.Release }]);
  d.ok(d.deadLetter(t0 + 2, [{ offset: 2, rejectedBy: "a" }]));
  d.ok(deleteCommand(t0 + 3, true));
  d.ok({ kind: ShareCommandKind.ShareCreate, nowMs: t0, groupId: "q", topic: "t", config, replace: false });
  assert.deepEqual(d.state.shares.counts("q", t0 + 4), fresh.state.shares.counts("q", t0 + 4));
  assert.deepEqual(d.state.shares.group("q"), fresh.state.shares.group("q"), "totals zero again");
  assert.deepEqual(d.acquire("b", t0 + 5, 10), fresh.acquire("b", t0 + 5, 10), "offset 0, accepted before, is handed out again");
});

test("the delete command survives its codec", () => {
  for (const force of [false, true]) assert.deepEqual(decodeCommand(encodeCommand(deleteCommand(t0, force))), deleteCommand(t0, force));
});

test("stored and restored after a delete: no share keys remain, and the store equals one where the group never existed", async () => {
  await withDb(async (withGroup) => {
    await withDb(async (without) => {
      const d = new Driver();
      d.setup(2, 6);
      d.acquire("a", t0, 5, [0, 1]);
      d.ack("a", t0 + 1, [{ offset: 0 }, { offset: 1 }]);
      d.ok(deleteCommand(t0 + 2, true));
      await write(withGroup, d.writes);
      const never = new Driver();
      never.setup(2, 6);
      await write(without, never.writes.slice(0, -1));
      const restored = BrokerState.restore(await loadBrokerState(withGroup), d.index);
      assert.deepEqual(restored.shares.groupIds(), []);
      assert.deepEqual(await dump(withGroup), await dump(without));
    });
  });
});

test("a delete also removes records stored one per key by an earlier build", async () => {
  await withDb(async (db) => {
    const live = new Driver();
    live.setup(1, 6);
    await write(db, live.writes);
    const key = (prefix: number, extra: number[]): Buffer => Buffer.concat([Buffer.from([prefix, 0, 1]), Buffer.from("q"), Buffer.from([0, 0, 0, 0, ...extra])]);
    const u64 = (n: number): number[] => [...Buffer.from(BigInt(n).toString(16).padStart(16, "0"), "hex")];
    const legacy = db.batch();
    legacy.put(key(0x1a, []), Buffer.from([1, ...u64(0), ...u64(2)]));
    for (const offset of [0, 1]) legacy.put(key(0x1b, u64(offset)), Buffer.from([1, 1, 0, 0, 0, 1, ...u64(0), ...u64(0), 0, 0]));
    await legacy.write({ sync: true });
    const restored = new Driver(BrokerState.restore(await loadBrokerState(db), live.index));
    restored.index = live.index;
    assert.equal(restored.state.shares.counts("q", t0)[0].available, 2);
    await write(db, [restored.ok(deleteCommand(t0 + 1)).mutations]);
    const left = (await dump(db)).filter((kv) => ["19", "1a", "1b"].includes(kv.slice(0, 2)));
    assert.deepEqual(left, []);
  });
});
