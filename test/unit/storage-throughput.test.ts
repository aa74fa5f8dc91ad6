// A measurement, not a check: how many small raft entries per second one chained batch written with
// { sync: true } persists, by batch size. Prints a table; asserts nothing about speed.
// Run with RAFTLINE_MEASURE=1.
import { after, it } from "node:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EntryType, type Ready } from "../../src/raft/types";
import { openDatabase } from "../../src/storage/db";
import { RaftStore } from "../../src/storage/raft-store";

const entryDataBytes = 100;
const measuredEntries = 20_000;
const maxMeasuredWrites = 2_000;
const dirs: string[] = [];

after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

it("measures synced chained-batch throughput for 1, 100 and 1000 entries per batch", { skip: process.env.RAFTLINE_MEASURE === undefined }, async () => {
  const rows: string[] = [];
  for (const entriesPerBatch of [1, 100, 1000]) {
    const dir = await mkdtemp(join(tmpdir(), "raftline-measure-"));
    dirs.push(dir);
    const db = await openDatabase(dir);
    const { store } = await RaftStore.load(db, { voters: [1], learners: [] });
    const data = new Uint8Array(entryDataBytes).fill(1);
    const writes = Math.min(maxMeasuredWrites, Math.ceil(measuredEntries / entriesPerBatch));
    let index = 0;
    const started = process.hrtime.bigint();
    for (let w = 0; w < writes; w++) {
      const entries = [];
      for (let i = 0; i < entriesPerBatch; i++) entries.push({ index: ++index, term: 1, type: EntryType.Normal, data });
      const rd: Ready = { entries, hardState: { term: 1, vote: 1, commit: index }, messages: [], committedEntries: [], readStates: [], mustSync: true };
      const batch = db.batch();
      store.addReady(batch, rd);
      await batch.write({ sync: true });
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    rows.push(`${String(entriesPerBatch).padStart(6)} | ${String(writes).padStart(6)} | ${(writes / seconds).toFixed(0).padStart(8)} | ${(index / seconds).toFixed(0).padStart(10)}`);
    await db.close();
  }
  console.log(`entries/batch | writes | writes/s | entries/s  (${entryDataBytes}-byte entries, sync: true)\n${rows.join("\n")}`);
});
