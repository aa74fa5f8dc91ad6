import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ConfState, type Entry, EntryType, type Ready } from "../../src/raft/types";
import { type Db, openDatabase } from "../../src/storage/db";
import { ENTRY_RANGE, HARD_STATE_KEY, LAYOUT_MARKER_KEY, entryIndexOf, entryKey } from "../../src/storage/keys";
import { decodeHardState, encodeEntry, encodeHardState } from "../../src/storage/raft-codec";
import { layoutMarker } from "../../src/storage/hard-state-place";
import { StorageCorruption } from "../../src/storage/corruption";
import { RaftStore } from "../../src/storage/raft-store";

const conf: ConfState = { voters: [1, 2, 3], learners: [] };
const dirs: string[] = [];

after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "raftline-store-"));
  dirs.push(dir);
  return dir;
}

function entry(index: number, term: number, text = `e${index}`): Entry {
  return { index, term, type: EntryType.Normal, data: new TextEncoder().encode(text) };
}

function ready(parts: Partial<Ready>): Ready {
  return { entries: [], messages: [], committedEntries: [], readStates: [], mustSync: true, ...parts };
}

async function persist(db: Db, store: RaftStore, rd: Ready): Promise<void> {
  const batch = db.batch();
  store.addReady(batch, rd);
  await batch.write({ sync: true });
}

/** Closes and reopens, as a restart would. */
async function reopen(db: Db, dir: string) {
  await db.close();
  const reopened = await openDatabase(dir);
  const loaded = await RaftStore.load(reopened, conf);
  return { db: reopened, ...loaded };
}

async function storedIndexes(db: Db): Promise<number[]> {
  const keys = await db.keys({ gte: ENTRY_RANGE.gte, lt: ENTRY_RANGE.lt }).all();
  return keys.map(entryIndexOf);
}

function summary(entries: Entry[]): string[] {
  return entries.map((e) => `${e.index}/${e.term}/${new TextDecoder().decode(e.data)}`);
}

describe("RaftStore", () => {
  it("gives a new node an empty log and a snapshot at 0 with the initial configuration", async () => {
    const db = await openDatabase(await freshDir());
    const { state, store } = await RaftStore.load(db, conf);
    assert.deepEqual(state, {
      hardState: { term: 0, vote: 0, commit: 0 },
      snapshot: { index: 0, term: 0, conf },
      entries: [],
      applied: 0,
      conf,
    });
    assert.equal(store.lastIndex, 0);
    assert.deepEqual(await db.get(LAYOUT_MARKER_KEY), layoutMarker);
    await db.close();
  });

  it("moves a hard state stored below the entries (key 0x01, before layout 3) above them, and marks the directory", async () => {
    const dir = await freshDir();
    const old = await openDatabase(dir);
    await old.put(LAYOUT_MARKER_KEY, encodeHardState({ term: 4, vote: 2, commit: 1 }));
    await old.put(entryKey(1), encodeEntry(entry(1, 4)));
    const { state } = await RaftStore.load(old, conf);
    assert.deepEqual(state.hardState, { term: 4, vote: 2, commit: 1 });
    assert.deepEqual(await old.get(LAYOUT_MARKER_KEY), layoutMarker);
    assert.deepEqual(decodeHardState((await old.get(HARD_STATE_KEY)) as Buffer), { term: 4, vote: 2, commit: 1 });
    const again = await reopen(old, dir);
    assert.deepEqual(again.state.hardState, { term: 4, vote: 2, commit: 1 }, "the move is done once");
    // A build that reads its hard state at 0x01 refuses the marker instead of starting as a node that never voted.
    assert.throws(() => decodeHardState(layoutMarker), /cannot read it/);
    await again.db.close();
  });

  it("refuses a damaged value where the hard state was, and moves nothing", async () => {
    const db = await openDatabase(await freshDir());
    await db.put(LAYOUT_MARKER_KEY, Buffer.alloc(27));
    await assert.rejects(RaftStore.load(db, conf), /corrupt hard state/);
    assert.equal(await db.get(HARD_STATE_KEY), undefined);
    await db.close();
  });

  it("reloads exactly what a Ready wrote: hard state, entries with their types and bytes", async () => {
    const dir = await freshDir();
    const db = await openDatabase(dir);
    const { store } = await RaftStore.load(db, conf);
    const confChange: Entry = { index: 3, term: 2, type: EntryType.ConfChange, data: new Uint8Array([0, 4]) };
    const empty: Entry = { index: 4, term: 2, type: EntryType.Normal, data: new Uint8Array(0) };
    await persist(db, store, ready({ hardState: { term: 2, vote: 1, commit: 2 }, entries: [entry(1, 1), entry(2, 2), confChange, empty] }));

    const reopened = await reopen(db, dir);
    assert.deepEqual(reopened.state.hardState, { term: 2, vote: 1, commit: 2 });
    assert.deepEqual(reopened.state.entries.map((e) => ({ ...e, data: [...e.data] })), [
      { index: 1, term: 1, type: EntryType.Normal, data: [...new TextEncoder().encode("e1")] },
      { index: 2, term: 2, type: EntryType.Normal, data: [...new TextEncoder().encode("e2")] },
      { index: 3, term: 2, type: EntryType.ConfChange, data: [0, 4] },
      { index: 4, term: 2, type: EntryType.Normal, data: [] },
    ]);
    assert.equal(reopened.store.lastIndex, 4);
    assert.equal(reopened.store.termAt(3), 2);
    await reopened.db.close();
  });

  it("overwrites a conflicting suffix and deletes stored entries past the new last index", async () => {
    const dir = await freshDir();
    const db = await openDatabase(dir);
    const { store } = await RaftStore.load(db, conf);
    await persist(db, store, ready({ hardState: { term: 2, vote: 1, commit: 0 }, entries: [1, 2, 3, 4, 5].map((i) => entry(i, 1)) }));
    await persist(db, store, ready({ entries: [entry(3, 2, "new3"), entry(4, 2, "new4")] }));
    assert.equal(store.lastIndex, 4);
    assert.deepEqual(await storedIndexes(db), [1, 2, 3, 4]);

    await persist(db, store, ready({ entries: [entry(5, 2, "new5"), entry(6, 2)] }));
    const reopened = await reopen(db, dir);
    assert.deepEqual(summary(reopened.state.entries), ["1/1/e1", "2/1/e2", "3/2/new3", "4/2/new4", "5/2/new5", "6/2/e6"]);
    await reopened.db.close();
  });

  it("refuses entries that do not attach to the log, before touching the batch", async () => {
    const db = await openDatabase(await freshDir());
    const { store } = await RaftStore.load(db, conf);
    await persist(db, store, ready({ entries: [entry(1, 1), entry(2, 1)] }));
    const batch = db.batch();
    assert.throws(() => store.addReady(batch, ready({ entries: [entry(4, 1)] })), /do not attach/);
    assert.equal(batch.length, 0);
    await batch.close();
    await db.close();
  });

  it("stores the applied index and membership, and raises a lagging stored commit to it", async () => {
    const dir = await freshDir();
    const db = await openDatabase(dir);
    const { store } = await RaftStore.load(db, conf);
    await persist(db, store, ready({ hardState: { term: 1, vote: 1, commit: 1 }, entries: [entry(1, 1), entry(2, 1), entry(3, 1)] }));
    const batch = db.batch();
    store.addApplied(batch, 3, { voters: [1, 2], learners: [4] });
    await batch.write({ sync: true });

    const reopened = await reopen(db, dir);
    assert.equal(reopened.state.applied, 3);
    assert.deepEqual(reopened.state.conf, { voters: [1, 2], learners: [4] });
    assert.equal(reopened.state.hardState.commit, 3);
    await reopened.db.close();
  });

  it("compacts the log at an applied index inside the caller's batch and reloads from there", async () => {
    const dir = await freshDir();
    const db = await openDatabase(dir);
    const { store } = await RaftStore.load(db, conf);
    const applyConf: ConfState = { voters: [1, 2, 3], learners: [4] };
    await persist(db, store, ready({ hardState: { term: 2, vote: 1, commit: 5 }, entries: [entry(1, 1), entry(2, 1), entry(3, 2), entry(4, 2), entry(5, 2)] }));
    const applyBatch = store.newBatch();
    store.addApplied(applyBatch, 4, applyConf);
    await applyBatch.write({ sync: true });

    const refused = db.batch();
    assert.throws(() => store.addCompaction(refused, { index: 5, term: 2, conf: applyConf }), /only an applied index \(4\)/);
    assert.throws(() => store.addCompaction(refused, { index: 3, term: 1, conf: applyConf }), /term 1, but the stored entry has 2/);
    assert.equal(refused.length, 0);
    await refused.close();

    const batch = store.newBatch();
    store.addCompaction(batch, { index: 4, term: 2, conf: applyConf });
    await batch.write({ sync: false });
    assert.deepEqual(await storedIndexes(db), [5]);
    assert.equal(store.firstIndex, 5);
    assert.equal(store.termAt(4), 2);
    assert.equal(store.termAt(3), undefined);

    const reopened = await reopen(db, dir);
    assert.deepEqual(reopened.state.snapshot, { index: 4, term: 2, conf: applyConf });
    assert.deepEqual(summary(reopened.state.entries), ["5/2/e5"]);
    assert.equal(reopened.state.applied, 4);
    assert.throws(() => reopened.store.addCompaction(reopened.db.batch(), { index: 4, term: 2, conf: applyConf }), /only an applied index \(4\) past 4/);
    await reopened.db.close();
  });

  it("keeps the key of a compacted entry that holds stored batches, and deletes it with its last batch", async () => {
    const dir = await freshDir();
    const db = await openDatabase(dir);
    const { store } = await RaftStore.load(db, conf);
    await persist(db, store, ready({ hardState: { term: 1, vote: 1, commit: 4 }, entries: [entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 1)] }));
    store.entryRefs.hold(2);
    store.entryRefs.hold(3);
    store.entryRefs.hold(3);
    const applied = store.newBatch();
    store.addApplied(applied, 4, conf);
    store.addCompaction(applied, { index: 4, term: 1, conf });
    await applied.write({ sync: true });
    assert.deepEqual(await storedIndexes(db), [2, 3], "the log starts after 4, but 2 and 3 hold batches");
    assert.ok(store.entryRefs.isShared(3));

    const released = store.newBatch();
    store.entryRefs.release(released, 2);
    store.entryRefs.release(released, 3);
    await released.write({ sync: true });
    assert.deepEqual(await storedIndexes(db), [3], "3 still holds one batch");
    const last = store.newBatch();
    store.entryRefs.release(last, 3);
    await last.write({ sync: true });
    assert.deepEqual(await storedIndexes(db), []);
    await db.close();
  });

  it("keeps the entries after a Ready's snapshot when the log holds the snapshot's own entry", async () => {
    const dir = await freshDir();
    const db = await openDatabase(dir);
    const { store } = await RaftStore.load(db, conf);
    await persist(db, store, ready({ hardState: { term: 2, vote: 1, commit: 0 }, entries: [entry(1, 1), entry(2, 1), entry(3, 2), entry(4, 2)] }));
    await persist(db, store, ready({ snapshot: { index: 3, term: 2, conf } }));
    // Entries up to the snapshot are its install's to replace (snapshot-store.ts): the store leaves them.
    assert.deepEqual(await storedIndexes(db), [1, 2, 3, 4]);

    const reopened = await reopen(db, dir);
    assert.deepEqual(reopened.state.snapshot, { index: 3, term: 2, conf });
    assert.deepEqual(summary(reopened.state.entries), ["4/2/e4"]);
    assert.equal(reopened.state.applied, 3);
    await reopened.db.close();
  });

  it("drops the whole log for a Ready's snapshot from another history, then appends after it", async () => {
    const dir = await freshDir();
    const db = await openDatabase(dir);
    const { store } = await RaftStore.load(db, conf);
    await persist(db, store, ready({ entries: [entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 1)] }));
    await persist(db, store, ready({ snapshot: { index: 3, term: 3, conf }, entries: [entry(4, 3, "after")], hardState: { term: 3, vote: 0, commit: 3 } }));
    assert.deepEqual(await storedIndexes(db), [1, 2, 3, 4], "up to the snapshot: the install's to replace");

    const reopened = await reopen(db, dir);
    assert.deepEqual(summary(reopened.state.entries), ["4/3/after"]);
    assert.equal(reopened.store.termAt(3), 3);
    await reopened.db.close();
  });

  it("loses nothing when a batch is never written (crash before the fsync)", async () => {
    const dir = await freshDir();
    const db = await openDatabase(dir);
    const { store } = await RaftStore.load(db, conf);
    await persist(db, store, ready({ hardState: { term: 1, vote: 1, commit: 0 }, entries: [entry(1, 1)] }));
    const unwritten = db.batch();
    store.addReady(unwritten, ready({ hardState: { term: 5, vote: 2, commit: 1 }, entries: [entry(1, 5), entry(2, 5)] }));
    await unwritten.close();

    const reopened = await reopen(db, dir);
    assert.deepEqual(reopened.state.hardState, { term: 1, vote: 1, commit: 0 });
    assert.deepEqual(summary(reopened.state.entries), ["1/1/e1"]);
    await reopened.db.close();
  });

  it("refuses to load a log with a hole, a corrupt entry or hard state, or one that disagrees with its hard state", async () => {
    const flipByte = (key: Buffer, at: number) => async (db: Db) => {
      const value = Buffer.from((await db.get(key)) ?? Buffer.alloc(0));
      value[at] ^= 0x10;
      await db.put(key, value);
    };
    const cases: Array<[string, (db: Db) => Promise<void>, RegExp]> = [
      ["hole", (db) => db.del(entryKey(2)), /gap: expected entry 2, found 3/],
      ["corrupt entry", (db) => db.put(entryKey(2), Buffer.from([1, 2, 3])), /corrupt entry 2/],
      ["flipped entry bit", flipByte(entryKey(3), 14), /corrupt entry 3: CRC-32C mismatch/],
      ["flipped hard state bit", flipByte(HARD_STATE_KEY, 9), /corrupt hard state: CRC-32C mismatch/],
      ["commit past the end", (db) => db.put(HARD_STATE_KEY, encodeHardState({ term: 1, vote: 1, commit: 9 })), /commit 9 beyond/],
      ["term behind the log", (db) => db.put(HARD_STATE_KEY, encodeHardState({ term: 0, vote: 0, commit: 0 })), /reaches term 1 but the hard state says term 0/],
      ["terms going back", (db) => db.put(entryKey(3), encodeEntry(entry(3, 0))), /terms go back at entry 3/],
    ];
    for (const [name, damage, expected] of cases) {
      const dir = await freshDir();
      const db = await openDatabase(dir);
      const { store } = await RaftStore.load(db, conf);
      await persist(db, store, ready({ hardState: { term: 1, vote: 1, commit: 0 }, entries: [entry(1, 1), entry(2, 1), entry(3, 1)] }));
      await damage(db);
      await db.close();
      const damaged = await openDatabase(dir);
      await assert.rejects(RaftStore.load(damaged, conf), (err: unknown) => err instanceof StorageCorruption && expected.test(err.message), name);
      await damaged.close();
    }
  });
});
