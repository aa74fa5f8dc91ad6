// The replicated ACLs and tokens: their commands survive the codec, apply is idempotent where the
// contract says so and refuses bad entries without a mutation, the matching rule (literal, prefix, "*",
// "all"), and a restart from LevelDB (what a snapshot carries) gives the same answers.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClassicLevel } from "classic-level";
import { type AclEntry, BrokerState, type Command, decodeCommand, encodeCommand, SecurityCommandKind } from "../../src/broker";
import { addMutations, loadBrokerState } from "../../src/storage/broker-store";
import type { Db } from "../../src/storage/db";
import { EntryRefs } from "../../src/storage/entry-refs";

const t0 = 1_700_000_000_000;
const hashA = "a".repeat(64);
let dir = "";
let db: Db;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "raftline-security-state-"));
  db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: "buffer", valueEncoding: "buffer" });
  await db.open();
});

after(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

const acl = (over: Partial<AclEntry> = {}): AclEntry => ({ principal: "alice", operation: "produce", resourceType: "topic", patternType: "prefix", name: "a-", ...over });

test("every security command decodes to itself", () => {
  const commands: Command[] = [
    { kind: SecurityCommandKind.AddAcl, nowMs: t0, acl: acl({ principal: "ünïcode", operation: "all", resourceType: "group", patternType: "literal", name: "g" }) },
    { kind: SecurityCommandKind.RemoveAcl, nowMs: t0, acl: acl({ resourceType: "cluster", name: "", patternType: "literal", operation: "alter" }) },
    { kind: SecurityCommandKind.CreateToken, nowMs: t0, id: "0123456789abcdef", principal: "bob", hash: hashA },
    { kind: SecurityCommandKind.DeleteToken, nowMs: t0, id: "0123456789abcdef" },
  ];
  for (const c of commands) assert.deepEqual(decodeCommand(encodeCommand(c)), c);
});

test("ACLs: adding is idempotent, removing an unknown entry and invalid entries are refused without a mutation", () => {
  const state = new BrokerState();
  let index = 0;
  const apply = (c: Command) => state.apply(++index, encodeCommand(c));
  const add = apply({ kind: SecurityCommandKind.AddAcl, nowMs: t0, acl: acl() });
  assert.deepEqual(add.result, { kind: "aclAdded", added: true });
  assert.equal(add.mutations.length, 1);
  const again = apply({ kind: SecurityCommandKind.AddAcl, nowMs: t0, acl: acl() });
  assert.deepEqual(again.result, { kind: "aclAdded", added: false });
  assert.equal(again.mutations.length, 0);
  for (const bad of [acl({ principal: "" }), acl({ patternType: "literal", name: "" }), acl({ resourceType: "cluster" }), acl({ name: "x".repeat(256) })]) {
    const out = apply({ kind: SecurityCommandKind.AddAcl, nowMs: t0, acl: bad });
    assert.equal(out.result.kind, "error", JSON.stringify(bad));
    assert.equal(out.mutations.length, 0);
  }
  const missing = apply({ kind: SecurityCommandKind.RemoveAcl, nowMs: t0, acl: acl({ name: "b-" }) });
  assert.equal(missing.result.kind === "error" && missing.result.error.reason, "ERROR_REASON_UNKNOWN_ACL");
  assert.deepEqual(state.security.listAcls(), [acl()]);
});

test("matching: a literal name is exact, a prefix covers its names, '*' any principal, 'all' any operation", () => {
  const state = new BrokerState();
  let index = 0;
  for (const entry of [
    acl(),
    acl({ principal: "bob", operation: "consume", patternType: "literal", name: "orders" }),
    acl({ principal: "*", operation: "describe", resourceType: "cluster", patternType: "literal", name: "" }),
    acl({ principal: "carol", operation: "all", resourceType: "group", name: "" }),
  ]) {
    state.apply(++index, encodeCommand({ kind: SecurityCommandKind.AddAcl, nowMs: t0, acl: entry }));
  }
  const t = state.security;
  assert.equal(t.allows("alice", { operation: "produce", resourceType: "topic", name: "a-1" }), true);
  assert.equal(t.allows("alice", { operation: "produce", resourceType: "topic", name: "b-1" }), false);
  assert.equal(t.allows("alice", { operation: "consume", resourceType: "topic", name: "a-1" }), false);
  assert.equal(t.allows("alice", { operation: "produce", resourceType: "group", name: "a-1" }), false);
  assert.equal(t.allows("bob", { operation: "consume", resourceType: "topic", name: "orders" }), true);
  assert.equal(t.allows("bob", { operation: "consume", resourceType: "topic", name: "orders2" }), false);
  assert.equal(t.allows("anyone", { operation: "describe", resourceType: "cluster", name: "" }), true);
  assert.equal(t.allows("anyone", { operation: "alter", resourceType: "cluster", name: "" }), false);
  assert.equal(t.allows("carol", { operation: "delete", resourceType: "group", name: "whatever" }), true);
});

test("tokens and ACLs are stored in LevelDB and restored the same (what snapshots carry)", async () => {
  const state = new BrokerState();
  let index = 0;
  const run = async (c: Command) => {
    const out = state.apply(++index, encodeCommand(c));
    const batch = db.batch();
    addMutations(batch, out.mutations, new EntryRefs());
    await batch.write({ sync: true });
    return out;
  };
  await run({ kind: SecurityCommandKind.AddAcl, nowMs: t0, acl: acl() });
  await run({ kind: SecurityCommandKind.AddAcl, nowMs: t0, acl: acl({ principal: "bob", name: "b-" }) });
  await run({ kind: SecurityCommandKind.RemoveAcl, nowMs: t0, acl: acl({ principal: "bob", name: "b-" }) });
  await run({ kind: SecurityCommandKind.CreateToken, nowMs: t0, id: "0000000000000001", principal: "alice", hash: hashA });
  await run({ kind: SecurityCommandKind.CreateToken, nowMs: t0 + 1, id: "0000000000000002", principal: "bob", hash: "b".repeat(64) });
  const dup = await run({ kind: SecurityCommandKind.CreateToken, nowMs: t0, id: "0000000000000003", principal: "eve", hash: hashA });
  assert.equal(dup.result.kind, "error", "a second token with the same hash is refused");
  await run({ kind: SecurityCommandKind.DeleteToken, nowMs: t0, id: "0000000000000002" });
  const restored = BrokerState.restore(await loadBrokerState(db), index);
  assert.deepEqual(restored.security.listAcls(), state.security.listAcls());
  assert.deepEqual(restored.security.listTokens(), state.security.listTokens());
  assert.equal(restored.security.principalOfTokenHash(hashA), "alice");
  assert.equal(restored.security.principalOfTokenHash("b".repeat(64)), undefined);
});
