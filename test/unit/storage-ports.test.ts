// The replica loop codes against narrow ports; RaftStore must fit its port as it is.
import { it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EntryType } from "../../src/raft/types";
import type { RaftPersistence } from "../../src/server/replica-ports";
import { openDatabase } from "../../src/storage/db";
import { RaftStore } from "../../src/storage/raft-store";

it("RaftStore fits the replica's persistence port as it is", async () => {
  const dir = await mkdtemp(join(tmpdir(), "raftline-ports-"));
  try {
    const db = await openDatabase(dir);
    const { store } = await RaftStore.load(db, { voters: [1], learners: [] });
    const persistence: RaftPersistence = store;
    const batch = persistence.newBatch();
    const entries = [{ term: 1, index: 1, type: EntryType.Normal, data: new Uint8Array([1]) }];
    persistence.addReady(batch, { entries, messages: [], committedEntries: [], readStates: [], mustSync: true });
    await batch.write({ sync: true });
    assert.equal(store.lastIndex, 1);
    await db.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
