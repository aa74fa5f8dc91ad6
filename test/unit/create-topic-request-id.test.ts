// CreateTopic's request id: a retry of the same create (same id, same configuration) is answered with the
// topic, anything else is ALREADY_EXISTS; the id travels in the command and survives storage and restore.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClassicLevel } from "classic-level";
import { BrokerState } from "../../src/broker/broker-state";
import { BrokerError } from "../../src/broker/errors";
import { CommandKind, CreateTopicCommand, decodeCommand, encodeCommand } from "../../src/broker/commands";
import { addMutations, loadBrokerState } from "../../src/storage/broker-store";
import type { Db } from "../../src/storage/db";
import { EntryRefs } from "../../src/storage/entry-refs";

const t0 = 1_700_000_000_000;
let dir = "";
let db: Db;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "raftline-request-id-"));
  db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: "buffer", valueEncoding: "buffer" });
  await db.open();
});

after(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

const create = (fields: Partial<CreateTopicCommand> = {}): CreateTopicCommand => ({
  kind: CommandKind.CreateTopic,
  nowMs: t0,
  name: "orders",
  partitions: 3,
  retentionMs: 0,
  retentionBytes: 0,
  maxRecordBytes: 0,
  requestId: "req-1",
  ...fields,
});

test("the request id round-trips through the command codec; a command without one keeps the old layout", () => {
  assert.deepEqual(decodeCommand(encodeCommand(create())), create());
  const bare = create({ requestId: undefined });
  const encoded = encodeCommand(bare);
  assert.equal(encoded.length, encodeCommand(create()).length - 2 - "req-1".length);
  assert.equal((decodeCommand(encoded) as CreateTopicCommand).requestId, undefined);
});

test("same id and config: the topic again, with no state change; another id, none or another config: ALREADY_EXISTS", () => {
  const state = new BrokerState();
  const first = state.apply(1, encodeCommand(create()));
  assert.equal(first.result.kind, "topicCreated");
  const again = state.apply(2, encodeCommand(create({ nowMs: t0 + 5 })));
  assert.deepEqual(again.result, first.result);
  assert.deepEqual(again.mutations, [], "a retry writes nothing");
  for (const other of [create({ requestId: "req-2" }), create({ requestId: undefined }), create({ partitions: 4 })]) {
    assert.throws(() => state.checkCreateTopic(other), (e: unknown) => e instanceof BrokerError && e.reason === "ERROR_REASON_TOPIC_EXISTS");
  }
  assert.throws(() => state.checkCreateTopic(create({ name: "x", requestId: "r".repeat(129) })), (e: unknown) => e instanceof BrokerError && e.reason === "ERROR_REASON_INVALID_FIELD");
});

test("the id is stored with the topic: a restored state still answers the retry", async () => {
  const state = new BrokerState();
  const created = state.apply(1, encodeCommand(create()));
  const batch = db.batch();
  addMutations(batch, created.mutations, new EntryRefs());
  await batch.write({ sync: true });
  const restored = BrokerState.restore(await loadBrokerState(db), 1);
  assert.deepEqual(restored.createdBy(create()), (created.result as { topic: unknown }).topic);
  assert.equal(restored.createdBy(create({ requestId: "req-2" })), undefined);
});
