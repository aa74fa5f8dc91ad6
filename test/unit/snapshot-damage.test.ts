// Snapshots never carry damage to a peer: a raft entry holding stored batches that fails its checksum
// stops the sender (which reports it as damage to repair) and is refused by the receiver before anything
// is installed.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StorageCorruption } from "../../src/storage/corruption";
import { openDatabase } from "../../src/storage/db";
import { EntryRefs } from "../../src/storage/entry-refs";
import { APPLIED_KEY, entryKey } from "../../src/storage/keys";
import { encodeApplied, encodeEntry } from "../../src/storage/raft-codec";
import { EntryType } from "../../src/raft/types";
import { stageSnapshot } from "../../src/storage/snapshot-store";
import { SnapshotEncoder } from "../../src/storage/snapshot-stream";
import { DbSnapshotSource } from "../../src/server/db-snapshot-source";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function freshDb() {
  const dir = await mkdtemp(join(tmpdir(), "raftline-snapshot-damage-"));
  dirs.push(dir);
  return openDatabase(dir);
}

const conf = { voters: [1, 2, 3], learners: [] };
/** Topic 1 partition 0's batch at offset 0, stored in raft entry 5. */
const indexKey = Buffer.from([0x12, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
const indexValue = Buffer.alloc(32);
indexValue.writeBigUInt64BE(5n, 20);

function damagedEntry(): Buffer {
  const value = encodeEntry({ index: 5, term: 1, type: EntryType.Normal, data: Buffer.from("a produce command") });
  value[value.length - 3] ^= 0x40;
  return value;
}

test("a sender whose stored batch's entry fails its checksum stops and reports the damage", async () => {
  const db = await freshDb();
  await db.batch().put(APPLIED_KEY, encodeApplied(7, conf)).put(indexKey, indexValue).put(entryKey(5), damagedEntry()).write({ sync: true });
  const found: string[] = [];
  const source = new DbSnapshotSource(db, new EntryRefs(), (finding) => found.push(finding));
  source.capture({ index: 7, term: 1, conf });
  const opened = source.open();
  assert.ok(opened);
  await assert.rejects(
    (async () => {
      for await (const chunk of opened.chunks) void chunk;
    })(),
    StorageCorruption,
  );
  assert.equal(found.length, 1);
  assert.match(found[0], /CRC-32C mismatch/);
  await source.close();
  await db.close();
});

/** Stages a snapshot at index 7 holding the applied key and raft entry `index` (`value`) into a fresh database. */
async function stageCarrying(index: number, value: Buffer): Promise<void> {
  const db = await freshDb();
  const encoder = new SnapshotEncoder(1024 * 1024);
  encoder.add(APPLIED_KEY, encodeApplied(7, conf));
  encoder.add(entryKey(index), value);
  const chunks = [...encoder.takeChunks(), ...encoder.finish()];
  try {
    await stageSnapshot(
      db,
      (async function* () {
        yield* chunks;
      })(),
      { index: 7, term: 1, conf },
    );
  } finally {
    await db.close();
  }
}

test("a receiver refuses a snapshot carrying an entry that fails its checksum", async () => {
  await assert.rejects(stageCarrying(5, damagedEntry()), StorageCorruption);
});

test("a receiver refuses a snapshot carrying an entry past its own index", async () => {
  const later = encodeEntry({ index: 8, term: 1, type: EntryType.Normal, data: Buffer.from("later") });
  await assert.rejects(stageCarrying(8, later), /snapshot at 7 carries raft entry 8/);
});
