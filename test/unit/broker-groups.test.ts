import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClassicLevel } from "classic-level";
import { assign, tpKey, type AssignorMember } from "../../src/broker/assignors";
import { ApplyOutcome, BrokerState } from "../../src/broker/broker-state";
import { Command, CommandKind, UnsupportedCommandError, decodeCommand, encodeCommand } from "../../src/broker/commands";
import { GroupCommandKind, type TopicPartition } from "../../src/broker/group-commands";
import { seededRandom } from "../support/seeded-random";
import { assignedOf, groupStateOf, revokingOf } from "../../src/broker/group-table";
import { encodeRecordBatch } from "../../src/broker/record-batch";
import { addMutations, loadBrokerState } from "../../src/storage/broker-store";
import type { Db } from "../../src/storage/db";
import { PREFIX_GROUP, PREFIX_GROUP_OFFSET } from "../../src/storage/group-store";
import { isStateKey } from "../../src/storage/keys";
import { EntryRefs } from "../../src/storage/entry-refs";

const t0 = 1_700_000_000_000;

class Driver {
  index = 0;
  constructor(public state = new BrokerState()) {}

  run(command: Command): ApplyOutcome {
    return this.state.apply(++this.index, encodeCommand(command));
  }

  ok(command: Command): ApplyOutcome {
    const out = this.run(command);
    if (out.result.kind === "error") assert.fail(`refused: ${out.result.error.reason} ${out.result.error.message}`);
    return out;
  }

  reason(command: Command): string {
    const out = this.run(command);
    assert.equal(out.mutations.length, 0);
    return out.result.kind === "error" ? out.result.error.reason : "accepted";
  }

  topic(name: string, partitions: number): void {
    this.ok({ kind: CommandKind.CreateTopic, nowMs: t0, name, partitions, retentionMs: 0, retentionBytes: 0, maxRecordBytes: 0 });
  }

  produce(topic: string, partition: number, count: number): void {
    const blob = encodeRecordBatch(Array.from({ length: count }, () => ({ value: new Uint8Array([1]), timestampMs: 0 })), t0);
    this.ok({ kind: CommandKind.Produce, nowMs: t0, batches: [{ topic, partition, blob }] });
  }

  join(memberId: string, extra: { instanceId?: string; assignor?: string; topics?: string[] } = {}): Command {
    return {
      kind: GroupCommandKind.GroupJoin,
      nowMs: t0,
      groupId: "g",
      memberId,
      instanceId: extra.instanceId ?? "",
      clientId: "c",
      topics: extra.topics ?? ["t"],
      sessionTimeoutMs: 3000,
      assignor: extra.assignor ?? "",
    };
  }

  leave(memberId: string): Command {
    return { kind: GroupCommandKind.GroupLeave, nowMs: t0, groupId: "g", memberId, expired: false };
  }

  member(memberId: string) {
    const m = this.state.groups.group("g")?.members.find((x) => x.memberId === memberId);
    if (!m) assert.fail(`no member ${memberId}`);
    return m;
  }

  /** Acknowledges every pending revocation, as well-behaved members do. */
  settle(): void {
    for (const m of [...(this.state.groups.group("g")?.members ?? [])]) {
      const revoking = revokingOf(m);
      if (revoking.length > 0) {
        this.ok({ kind: GroupCommandKind.GroupRevoked, nowMs: t0, groupId: "g", memberId: m.memberId, generation: m.generation, partitions: revoking });
      }
    }
  }

  commit(memberId: string, generation: number, partition: number, offset: number): Command {
    return { kind: GroupCommandKind.CommitOffsets, nowMs: t0, groupId: "g", memberId, generation, offsets: [{ topic: "t", partition, offset, metadata: "" }] };
  }
}

function counts(d: Driver): number[] {
  return (d.state.groups.group("g")?.members ?? []).map((m) => assignedOf(m).length);
}

function assertDisjoint(d: Driver): void {
  const seen = new Set<string>();
  for (const m of d.state.groups.group("g")?.members ?? []) {
    for (const tp of m.owned) {
      assert.ok(!seen.has(tpKey(tp)), `${tpKey(tp)} owned twice`);
      seen.add(tpKey(tp));
    }
  }
}

test("three members over six partitions split them 2/2/2; a fourth moves only what must move, after revocation", () => {
  const d = new Driver();
  d.topic("t", 6);
  d.ok(d.join("a"));
  d.ok(d.join("b"));
  d.settle();
  d.ok(d.join("c"));
  d.settle();
  assert.deepEqual(counts(d), [2, 2, 2]);
  assert.equal(groupStateOf(d.state.groups.group("g")!), "STABLE");
  const before = new Map(["a", "b", "c"].map((id) => [id, assignedOf(d.member(id)).map(tpKey)]));
  const generations = new Map(["a", "b", "c"].map((id) => [id, d.member(id).generation]));
  d.ok(d.join("d"));
  assertDisjoint(d);
  // Nothing is handed to the newcomer before its owner releases it.
  assert.equal(assignedOf(d.member("d")).length, 0);
  assert.equal(groupStateOf(d.state.groups.group("g")!), "RECONCILING");
  d.settle();
  assertDisjoint(d);
  assert.deepEqual([...counts(d)].sort(), [1, 1, 2, 2]);
  let moved = 0;
  for (const id of ["a", "b", "c"]) {
    const now = assignedOf(d.member(id)).map(tpKey);
    for (const p of before.get(id)!) if (!now.includes(p)) moved++;
    if (now.length === before.get(id)!.length) assert.equal(d.member(id).generation, generations.get(id), `${id} kept its generation`);
  }
  assert.equal(moved, 1, "one partition moves to the newcomer; the rest stay put");
});

test("a leaving member's partitions go to the others at once", () => {
  const d = new Driver();
  d.topic("t", 6);
  for (const id of ["a", "b", "c"]) {
    d.ok(d.join(id));
    d.settle();
  }
  d.ok(d.leave("b"));
  assertDisjoint(d);
  assert.deepEqual(counts(d), [3, 3]);
  assert.equal(d.reason(d.leave("b")), "ERROR_REASON_UNKNOWN_MEMBER");
});

test("a static member's new session takes its partitions and generation; nobody else changes", () => {
  const d = new Driver();
  d.topic("t", 4);
  d.ok(d.join("a", { instanceId: "host-a" }));
  d.ok(d.join("b"));
  d.settle();
  const group = d.state.groups.group("g")!;
  const generation = group.generation;
  const owned = assignedOf(d.member("a")).map(tpKey);
  const memberGeneration = d.member("a").generation;
  const out = d.ok(d.join("a2", { instanceId: "host-a" }));
  assert.equal(out.result.kind === "groupJoined" && out.result.replacedMemberId, "a");
  assert.equal(d.state.groups.group("g")!.generation, generation);
  assert.deepEqual(assignedOf(d.member("a2")).map(tpKey), owned);
  assert.equal(d.member("a2").generation, memberGeneration);
  assert.equal(d.reason(d.commit("a", memberGeneration, 0, 0)), "ERROR_REASON_UNKNOWN_MEMBER");
});

test("commits are fenced: unknown group or member, stale generation, not the owner, backwards, beyond the watermark", () => {
  const d = new Driver();
  d.topic("t", 2);
  d.produce("t", 0, 5);
  d.produce("t", 1, 5);
  d.ok(d.join("a"));
  d.ok(d.join("b"));
  d.settle();
  const a = d.member("a");
  const mine = assignedOf(a)[0].partition;
  const theirs = assignedOf(d.member("b"))[0].partition;
  d.ok(d.commit("a", a.generation, mine, 3));
  assert.equal(d.reason({ ...d.commit("a", a.generation, mine, 3), groupId: "nope" } as Command), "ERROR_REASON_UNKNOWN_GROUP");
  assert.equal(d.reason(d.commit("zz", a.generation, mine, 4)), "ERROR_REASON_UNKNOWN_MEMBER");
  assert.equal(d.reason(d.commit("a", a.generation - 1, mine, 4)), "ERROR_REASON_STALE_GENERATION");
  assert.equal(d.reason(d.commit("a", a.generation, theirs, 4)), "ERROR_REASON_NOT_PARTITION_OWNER");
  assert.equal(d.reason(d.commit("a", a.generation, mine, 2)), "ERROR_REASON_OFFSET_BEHIND_COMMITTED");
  assert.equal(d.reason(d.commit("a", a.generation, mine, 6)), "ERROR_REASON_OFFSET_OUT_OF_RANGE");
  d.ok(d.commit("a", a.generation, mine, 5));
  const topicId = d.state.topic("t")!.id;
  assert.equal(d.state.groups.committedOffset("g", topicId, mine)?.offset, 5);
});

test("reset and delete only while the group is empty", () => {
  const d = new Driver();
  d.topic("t", 1);
  d.produce("t", 0, 3);
  d.ok(d.join("a"));
  const reset: Command = { kind: GroupCommandKind.ResetOffsets, nowMs: t0, groupId: "g", topic: "t", offsets: [{ partition: 0, offset: 1 }] };
  assert.equal(d.reason(reset), "ERROR_REASON_GROUP_NOT_EMPTY");
  assert.equal(d.reason({ kind: GroupCommandKind.DeleteGroup, nowMs: t0, groupId: "g" }), "ERROR_REASON_GROUP_NOT_EMPTY");
  d.ok(d.leave("a"));
  d.ok(reset);
  d.ok({ kind: GroupCommandKind.DeleteGroup, nowMs: t0, groupId: "g" });
  assert.equal(d.state.groups.group("g"), undefined);
  assert.equal(d.reason({ kind: GroupCommandKind.DeleteGroup, nowMs: t0, groupId: "g" }), "ERROR_REASON_UNKNOWN_GROUP");
});

test("range and round-robin deal partitions as documented", () => {
  const members: AssignorMember[] = ["b", "a"].map((memberId) => ({ memberId, topics: ["x", "y"], owned: [] }));
  const parts = (tps: TopicPartition[] | undefined): string[] => (tps ?? []).map(tpKey);
  const range = assign("range", members, () => 3);
  assert.deepEqual(parts(range.get("a")), ["x/0", "x/1", "y/0", "y/1"]);
  assert.deepEqual(parts(range.get("b")), ["x/2", "y/2"]);
  const rr = assign("round-robin", members, () => 3);
  assert.deepEqual(parts(rr.get("a")), ["x/0", "x/2", "y/1"]);
  assert.deepEqual(parts(rr.get("b")), ["x/1", "y/0", "y/2"]);
});

let dir = "";
let db: Db;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "raftline-groups-"));
  db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: "buffer", valueEncoding: "buffer" });
  await db.open();
});
after(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

test("groups and committed offsets survive a restart from storage", async () => {
  const d = new Driver();
  const batch = db.batch();
  const run = (command: Command): void => {
    const out = d.run(command);
    assert.notEqual(out.result.kind, "error");
    addMutations(batch, out.mutations, new EntryRefs());
  };
  run({ kind: CommandKind.CreateTopic, nowMs: t0, name: "t", partitions: 2, retentionMs: 0, retentionBytes: 0, maxRecordBytes: 0 });
  run({ kind: CommandKind.Produce, nowMs: t0, batches: [{ topic: "t", partition: 0, blob: encodeRecordBatch([{ value: new Uint8Array([1]), timestampMs: 0 }], t0) }] });
  run({ kind: GroupCommandKind.GroupJoin, nowMs: t0, groupId: "g", memberId: "m", instanceId: "i", clientId: "c", topics: ["t"], sessionTimeoutMs: 3000, assignor: "range" });
  const m = d.state.groups.group("g")!.members[0];
  run({ kind: GroupCommandKind.CommitOffsets, nowMs: t0 + 1, groupId: "g", memberId: "m", generation: m.generation, offsets: [{ topic: "t", partition: 0, offset: 1, metadata: "md" }] });
  await batch.write({ sync: true });
  const restored = BrokerState.restore(await loadBrokerState(db), d.index);
  assert.deepEqual(restored.groups.group("g"), d.state.groups.group("g"));
  assert.deepEqual(restored.groups.committed("g"), d.state.groups.committed("g"));
  assert.equal(restored.groups.committed("g")[0].metadata, "md");
});

test("group keys lie in the state range, so snapshots carry them", () => {
  assert.ok(isStateKey(Buffer.from([PREFIX_GROUP, 0x67])));
  assert.ok(isStateKey(Buffer.from([PREFIX_GROUP_OFFSET, 0, 1, 0x67])));
});


test("random joins, leaves and releases: never two owners, generations never back, balanced once settled", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const random = seededRandom(seed);
    const d = new Driver();
    const partitions = 1 + Math.floor(random() * 12);
    d.topic("t", partitions);
    let next = 0;
    const live: string[] = [];
    let generation = 0;
    for (let step = 0; step < 60; step++) {
      const roll = random();
      if (roll < 0.35 || live.length === 0) {
        const id = `m${String(next++).padStart(3, "0")}`;
        d.ok(d.join(id));
        live.push(id);
      } else if (roll < 0.55) {
        const [id] = live.splice(Math.floor(random() * live.length), 1);
        d.ok(d.leave(id));
      } else {
        const g = d.state.groups.group("g");
        const m = g?.members[Math.floor(random() * g.members.length)];
        const revoking = m ? revokingOf(m) : [];
        if (m && revoking.length > 0) {
          d.ok({ kind: GroupCommandKind.GroupRevoked, nowMs: t0, groupId: "g", memberId: m.memberId, generation: m.generation, partitions: revoking });
        }
      }
      assertDisjoint(d);
      const g = d.state.groups.group("g")!;
      assert.ok(g.generation >= generation, `seed ${seed}: the generation went back`);
      generation = g.generation;
      for (const m of g.members) assert.ok(m.generation <= g.generation, `seed ${seed}: a member ahead of its group`);
    }
    d.settle();
    const g = d.state.groups.group("g")!;
    if (g.members.length > 0) {
      const sizes = g.members.map((m) => assignedOf(m).length);
      assert.equal(sizes.reduce((a, b) => a + b, 0), partitions, `seed ${seed}: every partition owned`);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `seed ${seed}: balanced, got ${sizes.join("/")}`);
      assert.equal(groupStateOf(g), "STABLE");
    }
  }
});

test("group commands round-trip through the codec, and a damaged one is refused as malformed", () => {
  const commands: Command[] = [
    { kind: GroupCommandKind.GroupJoin, nowMs: t0, groupId: "g", memberId: "m", instanceId: "i", clientId: "c", topics: ["a", "b"], sessionTimeoutMs: 3000, assignor: "range" },
    { kind: GroupCommandKind.GroupLeave, nowMs: t0, groupId: "g", memberId: "m", expired: true },
    { kind: GroupCommandKind.GroupRevoked, nowMs: t0, groupId: "g", memberId: "m", generation: 7, partitions: [{ topic: "a", partition: 3 }] },
    { kind: GroupCommandKind.CommitOffsets, nowMs: t0, groupId: "g", memberId: "m", generation: 7, offsets: [{ topic: "a", partition: 1, offset: 2 ** 40, metadata: "x" }] },
    { kind: GroupCommandKind.ResetOffsets, nowMs: t0, groupId: "g", topic: "a", offsets: [{ partition: 0, offset: 5 }] },
    { kind: GroupCommandKind.DeleteGroup, nowMs: t0, groupId: "g" },
  ];
  for (const c of commands) assert.deepEqual(decodeCommand(encodeCommand(c)), c);
  const damaged = encodeCommand(commands[0]).slice(0, 20);
  assert.throws(() => decodeCommand(damaged), UnsupportedCommandError);
});

test("deleting a subscribed topic takes its partitions out of the group at once; the rest rebalance", () => {
  const d = new Driver();
  d.topic("t", 2);
  d.topic("u", 2);
  d.ok(d.join("a", { topics: ["t", "u"] }));
  d.ok(d.join("b", { topics: ["t", "u"] }));
  d.settle();
  const generation = d.state.groups.group("g")!.generation;
  const out = d.ok({ kind: CommandKind.DeleteTopic, nowMs: t0, name: "u" });
  assert.ok(out.mutations.some((m) => m.kind === "putGroup"));
  const g = d.state.groups.group("g")!;
  assert.ok(g.generation > generation);
  assert.ok(g.members.every((m) => m.owned.every((tp) => tp.topic === "t") && m.target.every((tp) => tp.topic === "t")));
  d.settle();
  assert.deepEqual(counts(d), [1, 1]);
  assertDisjoint(d);
});
