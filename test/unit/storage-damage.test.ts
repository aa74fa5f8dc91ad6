// A node's own damage report: reads refused with UNAVAILABLE + NODE_DAMAGED (and the leader hint), the
// finding recorded durably for the next start, health NOT_SERVING, and listeners told once.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import pino from "pino";
import { openDatabase } from "../../src/storage/db";
import { loadDamage, replacementPending, setReplacementPending } from "../../src/storage/repair-state";
import { servingStatus } from "../../src/server/health";
import type { Replica } from "../../src/server/replica";
import { RpcError } from "../../src/server/rpc-errors";
import { StorageDamage } from "../../src/server/storage-damage";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

test("damage found while running refuses reads, is recorded for the next start, and is reported once", async () => {
  const dir = await mkdtemp(join(tmpdir(), "raftline-damage-"));
  dirs.push(dir);
  const db = await openDatabase(dir);
  const damage = new StorageDamage(db, pino({ level: "silent" }));
  const told: string[] = [];
  damage.onFound((finding) => told.push(finding));
  damage.check(2);
  assert.equal(damage.unhealthy, false);

  await damage.report("record batch: CRC-32C mismatch");
  await damage.report("a second finding");
  assert.deepEqual(told, ["record batch: CRC-32C mismatch"]);
  assert.equal(await loadDamage(db), "record batch: CRC-32C mismatch");
  assert.throws(
    () => damage.check(2),
    (err: unknown) => err instanceof RpcError && err.code === grpc.status.UNAVAILABLE && err.reason === "ERROR_REASON_NODE_DAMAGED" && err.leaderId === 2,
  );
  assert.match(damage.status, /CRC-32C mismatch/);
  await db.close();
});

test("a node on a fresh directory refuses reads until the cluster has replaced it", async () => {
  const dir = await mkdtemp(join(tmpdir(), "raftline-damage-"));
  dirs.push(dir);
  const db = await openDatabase(dir);
  await setReplacementPending(db, true);
  assert.equal(await replacementPending(db), true);
  const damage = new StorageDamage(db, pino({ level: "silent" }));
  damage.repairing("waiting to be replaced");
  assert.throws(() => damage.check(0), /repairing itself/);
  damage.repaired();
  damage.check(0);
  await setReplacementPending(db, false);
  assert.equal(await replacementPending(db), false);
  await db.close();
});

test("health is NOT_SERVING while damaged, whatever raft says", () => {
  const replica = { appliedIndex: 5, leaderId: 1, raftNode: { status: () => ({ commit: 5 }) } } as unknown as Replica<unknown>;
  assert.equal(servingStatus(replica), "SERVING");
  assert.equal(servingStatus(replica, true), "NOT_SERVING");
});
