// Snapshots never carry damage to a peer: a stored batch failing its checksum stops the sender (which
// reports it as damage to repair) and is refused by the receiver before anything is installed.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeRecordBatch } from "../../src/broker";
import { StorageCorruption } from "../../src/storage/corruption";
import { openDatabase } from "../../src/storage/db";
import { APPLIED_KEY } from "../../src/storage/keys";
import { encodeApplied } from "../../src/storage/raft-codec";
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
const batchKey = Buffer.from([0x13, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

function damagedBatch(): Buffer {
  const blob = Buffer.from(encodeRecordBatch([{ value: Buffer.from("hello world") }], 1000));
  blob[blob.length - 3] ^= 0x40;
  return blob;
}

test("a sender whose stored batch fails its checksum stops and reports the damage", async () => {
  const db = await freshDb();
  await db.batch().put(APPLIED_KEY, encodeApplied(7, conf)).put(batchKey, damagedBatch()).write({ sync: true });
  const found: string[] = [];
  const source = new DbSnapshotSource(db, (finding) => found.push(finding));
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

test("a receiver refuses a snapshot carrying a batch that fails its checksum", async () => {
  const db = await freshDb();
  const encoder = new SnapshotEncoder(1024 * 1024);
  encoder.add(APPLIED_KEY, encodeApplied(7, conf));
  encoder.add(batchKey, damagedBatch());
  const chunks = [...encoder.takeChunks(), ...encoder.finish()];
  await assert.rejects(
    stageSnapshot(
      db,
      (async function* () {
        yield* chunks;
      })(),
      { index: 7, term: 1, conf },
    ),
    StorageCorruption,
  );
  await db.close();
});
