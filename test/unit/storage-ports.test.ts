// The replica loop codes against narrow ports; the storage classes must fit them as they are.
import { it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RaftPersistence, SnapshotSource } from "../../src/server/replica-ports";
import { openDatabase } from "../../src/storage/db";
import { RaftStore } from "../../src/storage/raft-store";
import { StateSnapshots } from "../../src/storage/snapshot-source";

it("RaftStore and StateSnapshots fit the replica's storage ports", async () => {
  const dir = await mkdtemp(join(tmpdir(), "raftline-ports-"));
  try {
    const db = await openDatabase(dir);
    const { store } = await RaftStore.load(db, { voters: [1], learners: [] });
    const persistence: RaftPersistence = store;
    const snapshots: SnapshotSource = new StateSnapshots(db);
    assert.equal(snapshots.open(), undefined);
    await persistence.newBatch().write({ sync: true });
    await db.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
