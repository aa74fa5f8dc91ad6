import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ConfState, type SnapshotMeta } from "../../src/raft/types";
import { type Db, openDatabase } from "../../src/storage/db";
import {
  APPLIED_KEY,
  ENTRY_RANGE,
  IMPORT_MARKER_KEY,
  SNAPSHOT_META_KEY,
  STAGING_RANGE,
  STATE_SPAN,
  entryIndexOf,
  entryKey,
} from "../../src/storage/keys";
import { decodeSnapshotMeta, encodeApplied, encodeEntry, encodeSnapshotMeta } from "../../src/storage/raft-codec";
import {
  discardStaged,
  exportState,
  importState,
  installStagedSnapshot,
  stageSnapshot,
} from "../../src/storage/snapshot-store";
import { SnapshotDecoder, SnapshotEncoder } from "../../src/storage/snapshot-stream";
import { EntryRefs } from "../../src/storage/entry-refs";
import { DbSnapshotSource } from "../../src/server/db-snapshot-source";

const conf: ConfState = { voters: [1, 2, 3], learners: [] };
const dirs: string[] = [];

after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function freshDb(): Promise<{ db: Db; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), "raftline-snap-"));
  dirs.push(dir);
  return { db: await openDatabase(dir), dir };
}

function brokerKey(prefix: number, name: string): Buffer {
  return Buffer.concat([Buffer.from([prefix]), Buffer.from(name)]);
}

/** A batch index key (topic 1, partition `partition`, base offset 0) whose batch is stored in raft entry `entry`. */
function batchIndex(partition: number, entry: number): [Buffer, Buffer] {
  const key = Buffer.alloc(17);
  key[0] = 0x12;
  key.writeUInt32BE(1, 1);
  key.writeUInt32BE(partition, 5);
  const value = Buffer.alloc(32);
  value.writeBigUInt64BE(BigInt(entry), 20);
  return [key, value];
}

/**
 * A leader-side database: state applied up to `applied`, a compacted entry (1) holding the batches of two
 * partitions, plus raft records that must not travel (the log after its start at 2).
 */
async function seedLeader(db: Db, applied: number): Promise<void> {
  const batch = db.batch();
  batch.put(APPLIED_KEY, encodeApplied(applied, conf));
  batch.put(SNAPSHOT_META_KEY, encodeSnapshotMeta({ index: 2, term: 1, conf }));
  batch.put(entryKey(1), encodeEntry({ index: 1, term: 1, type: 0, data: new Uint8Array(50_000).fill(4) }));
  batch.put(entryKey(3), encodeEntry({ index: 3, term: 1, type: 0, data: new Uint8Array([9]) }));
  batch.put(brokerKey(0x10, "topic/a"), Buffer.from("meta-a"));
  batch.put(brokerKey(0x11, "empty"), Buffer.alloc(0));
  batch.put(...batchIndex(0, 1));
  batch.put(...batchIndex(1, 1));
  batch.put(brokerKey(0x15, "log/0"), Buffer.alloc(300_000, 7));
  batch.put(brokerKey(0x1f, "last"), Buffer.from("z"));
  await batch.write({ sync: true });
}

async function stateRange(db: Db): Promise<Array<[string, string]>> {
  const pairs = await db.iterator({ gte: STATE_SPAN.gte, lt: STATE_SPAN.lt }).all();
  return pairs
    .filter(([key]) => key[0] === 0x03 || key[0] >= 0x10)
    .map(([key, value]) => [key.toString("hex"), value.toString("hex")]);
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

async function* replay(chunks: Buffer[]): AsyncIterable<Buffer> {
  yield* chunks;
}

async function countRange(db: Db, range: { gte: Buffer; lt: Buffer }): Promise<number> {
  return (await db.keys(range).all()).length;
}

const meta10: SnapshotMeta = { index: 10, term: 3, conf };

describe("snapshot format", () => {
  it("decodes the same pairs however the stream is re-chunked", () => {
    const encoder = new SnapshotEncoder(16);
    const pairs: Array<[Buffer, Buffer]> = [
      [Buffer.from([0x03]), Buffer.from("applied")],
      [Buffer.from([0x10, 1]), Buffer.alloc(0)],
      [Buffer.from([0x11, 2]), Buffer.alloc(100, 5)],
    ];
    for (const [k, v] of pairs) encoder.add(k, v);
    const chunks = [...encoder.takeChunks(), ...encoder.finish()];
    assert.ok(chunks.every((c) => c.length <= 16));
    const whole = Buffer.concat(chunks);
    for (const step of [1, 3, 16, whole.length]) {
      const decoder = new SnapshotDecoder();
      const out: Array<[Buffer, Buffer]> = [];
      for (let at = 0; at < whole.length; at += step) out.push(...decoder.push(whole.subarray(at, at + step)));
      decoder.finish();
      assert.deepEqual(out, pairs, `step ${step}`);
    }
  });

  it("rejects a truncated stream, trailing bytes, a wrong count and an unknown version", () => {
    const encoder = new SnapshotEncoder(64);
    encoder.add(Buffer.from([0x03]), Buffer.from("x"));
    const whole = Buffer.concat(encoder.finish());
    const truncated = new SnapshotDecoder();
    [...truncated.push(whole.subarray(0, whole.length - 1))];
    assert.throws(() => truncated.finish(), /truncated/);
    assert.throws(() => [...new SnapshotDecoder().push(Buffer.concat([whole, Buffer.from([0])]))], /after the trailer/);
    const badCount = Buffer.from(whole);
    badCount[badCount.length - 1] = 7;
    assert.throws(() => [...new SnapshotDecoder().push(badCount)], /trailer says 7/);
    assert.throws(() => [...new SnapshotDecoder().push(Buffer.from([9, 0, 0]))], /unknown version 9/);
    assert.throws(() => [...new SnapshotDecoder().push(Buffer.from([1, 0xff, 0xff, 0xff, 0xff]))], /key of/);
  });
});

describe("snapshot store", () => {
  it("export then import into a fresh database gives an identical state range", async () => {
    const leader = await freshDb();
    await seedLeader(leader.db, 10);
    const chunks = await collect(exportState(leader.db, { maxChunkBytes: 64 * 1024 }));
    assert.ok(chunks.length > 4 && chunks.every((c) => c.length <= 64 * 1024));

    const carried: number[] = [];
    const decoder = new SnapshotDecoder();
    for (const chunk of chunks) for (const [key] of decoder.push(chunk)) if (key[0] === ENTRY_RANGE.gte[0]) carried.push(entryIndexOf(key));
    assert.deepEqual(carried, [1], "the entry holding batches, once; not the log");

    const follower = await freshDb();
    await follower.db.put(brokerKey(0x10, "stale"), Buffer.from("gone after import"));
    await importState(follower.db, replay(chunks), meta10);
    assert.deepEqual(await stateRange(follower.db), await stateRange(leader.db));
    assert.deepEqual(await follower.db.get(entryKey(1)), await leader.db.get(entryKey(1)));
    assert.deepEqual(decodeSnapshotMeta((await follower.db.get(SNAPSHOT_META_KEY))!), meta10);
    assert.equal(await follower.db.get(IMPORT_MARKER_KEY), undefined);
    assert.equal(await countRange(follower.db, STAGING_RANGE), 0);
    await leader.db.close();
    await follower.db.close();
  });

  it("exports the state as of the call, not as of consumption", async () => {
    const { db } = await freshDb();
    await seedLeader(db, 10);
    const before = await stateRange(db);
    const stream = exportState(db);
    await db.batch().put(brokerKey(0x10, "later"), Buffer.from("x")).put(APPLIED_KEY, encodeApplied(11, conf)).write({ sync: true });

    const follower = await freshDb();
    await importState(follower.db, stream, meta10);
    assert.deepEqual(await stateRange(follower.db), before);
    await db.close();
    await follower.db.close();
  });

  it("exports from an explicit snapshot the same version to every follower while the live state moves on", async () => {
    const leader = await freshDb();
    await seedLeader(leader.db, 10);
    const captured = await stateRange(leader.db);
    const snapshot = leader.db.snapshot();
    await leader.db.batch().put(APPLIED_KEY, encodeApplied(11, conf)).del(brokerKey(0x10, "topic/a")).write({ sync: true });

    for (let follower = 0; follower < 2; follower++) {
      const { db } = await freshDb();
      await stageSnapshot(db, exportState(leader.db, { snapshot, maxChunkBytes: 4096 }), meta10);
      await installStagedSnapshot(db, meta10);
      assert.deepEqual(await stateRange(db), captured);
      await db.close();
    }
    await snapshot.close();
    await leader.db.close();
  });

  it("a send goes on reading its capture after a newer capture replaces it, carried entries and all", async () => {
    // Under sustained writes captures come every few seconds; sending a large state takes longer.
    const leader = await freshDb();
    await seedLeader(leader.db, 10);
    // Enough index keys that the export reads several pages, the last pointing at another compacted entry,
    // and enough bytes that a chunk is ready after the first page.
    const more = leader.db.batch();
    for (let p = 100; p < 700; p++) more.put(...batchIndex(p, 1));
    const [lastKey, lastValue] = batchIndex(0, 5);
    lastKey.writeUInt32BE(9, 1);
    more.put(brokerKey(0x11, "big"), Buffer.alloc(1_500_000, 3));
    more.put(lastKey, lastValue).put(entryKey(5), encodeEntry({ index: 5, term: 1, type: 0, data: new Uint8Array(20_000).fill(5) }));
    await more.write({ sync: true });
    const captured = await stateRange(leader.db);
    const entry5 = await leader.db.get(entryKey(5));
    const source = new DbSnapshotSource(leader.db, new EntryRefs());
    source.capture(meta10);
    const send = source.open();
    assert.ok(send);
    const chunks = send.chunks[Symbol.asyncIterator]();
    const first = await chunks.next();
    await leader.db.batch().put(APPLIED_KEY, encodeApplied(11, conf)).del(entryKey(5)).del(brokerKey(0x10, "topic/a")).write({ sync: true });
    source.capture({ index: 11, term: 3, conf });
    const rest: Buffer[] = [];
    for (let c = await chunks.next(); !c.done; c = await chunks.next()) rest.push(c.value);

    const { db } = await freshDb();
    await stageSnapshot(db, replay([first.value as Buffer, ...rest]), meta10);
    await installStagedSnapshot(db, meta10);
    assert.deepEqual(await stateRange(db), captured);
    assert.deepEqual(await db.get(entryKey(5)), entry5, "the carried entry as of the capture");
    await db.close();
    await source.close();
    await leader.db.close();
  });

  it("drops the entries the snapshot covers, and keeps later ones only on the same history", async () => {
    const leader = await freshDb();
    await seedLeader(leader.db, 10);
    const chunks = await collect(exportState(leader.db));

    for (const [termAt10, expected] of [[3, [1, 11, 12]], [2, [1]]] as const) {
      const { db } = await freshDb();
      const batch = db.batch();
      for (let i = 5; i <= 12; i++) batch.put(entryKey(i), encodeEntry({ index: i, term: i <= 10 ? termAt10 : 4, type: 0, data: new Uint8Array(0) }));
      await batch.write({ sync: true });
      await importState(db, replay(chunks), meta10);
      const left = (await db.keys({ gte: ENTRY_RANGE.gte, lt: ENTRY_RANGE.lt }).all()).map(entryIndexOf);
      assert.deepEqual(left, expected, `term at 10 = ${termAt10}`);
      await db.close();
    }
    await leader.db.close();
  });

  it("leaves the live state untouched when the stream is cut, garbage, or the state at another index", async () => {
    const leader = await freshDb();
    await seedLeader(leader.db, 10);
    const chunks = await collect(exportState(leader.db, { maxChunkBytes: 1024 }));
    const { db } = await freshDb();
    await db.batch().put(APPLIED_KEY, encodeApplied(4, conf)).put(brokerKey(0x10, "mine"), Buffer.from("kept")).write({ sync: true });
    const live = await stateRange(db);

    async function* cut(): AsyncIterable<Buffer> {
      yield* chunks.slice(0, 3);
      throw new Error("peer went away");
    }
    await assert.rejects(stageSnapshot(db, cut(), meta10), /peer went away/);
    await assert.rejects(stageSnapshot(db, replay(chunks.slice(0, -1)), meta10), /truncated/);
    await assert.rejects(stageSnapshot(db, replay([Buffer.from("GET / HTTP/1.1\r\n")]), meta10), /unknown version/);
    await assert.rejects(stageSnapshot(db, replay(chunks), { ...meta10, index: 12 }), /state at 10, meta says 12/);
    await assert.rejects(stageSnapshot(db, replay(chunks), { ...meta10, index: 4 }), /not past the applied index 4/);

    assert.deepEqual(await stateRange(db), live);
    assert.equal(await countRange(db, STAGING_RANGE), 0);
    assert.equal(await db.get(IMPORT_MARKER_KEY), undefined);
    await leader.db.close();
    await db.close();
  });

  it("installs only the snapshot that was staged, and a discarded stage changes nothing", async () => {
    const leader = await freshDb();
    await seedLeader(leader.db, 10);
    const chunks = await collect(exportState(leader.db));
    const { db } = await freshDb();
    await stageSnapshot(db, replay(chunks), meta10);
    await assert.rejects(installStagedSnapshot(db, { ...meta10, term: 9 }), /staged snapshot is 10\/3/);
    await discardStaged(db);
    await assert.rejects(installStagedSnapshot(db, meta10), /no staged snapshot/);
    assert.deepEqual(await stateRange(db), []);
    await leader.db.close();
    await db.close();
  });

  it("at open, discards a stage a crash interrupted and redoes an install a crash interrupted", async () => {
    const leader = await freshDb();
    await seedLeader(leader.db, 10);
    const chunks = await collect(exportState(leader.db));
    const expected = await stateRange(leader.db);

    // Crash while staging: the old state stays, the staging area is wiped.
    const staging = await freshDb();
    await staging.db.put(APPLIED_KEY, encodeApplied(1, conf));
    await stageSnapshot(staging.db, replay(chunks), meta10);
    await setMarkerPhase(staging.db, 1);
    await staging.db.close();
    const afterStage = await openDatabase(staging.dir);
    assert.deepEqual(await stateRange(afterStage), [[APPLIED_KEY.toString("hex"), encodeApplied(1, conf).toString("hex")]]);
    assert.equal(await countRange(afterStage, STAGING_RANGE), 0);
    assert.equal(await afterStage.get(IMPORT_MARKER_KEY), undefined);
    await afterStage.close();

    // Crash halfway through installing: the live state was partly wiped; open completes the install.
    const installing = await freshDb();
    await installing.db.put(brokerKey(0x10, "old"), Buffer.from("old"));
    await stageSnapshot(installing.db, replay(chunks), meta10);
    await setMarkerPhase(installing.db, 3);
    await installing.db.del(brokerKey(0x10, "old"));
    await installing.db.close();
    const afterInstall = await openDatabase(installing.dir);
    assert.deepEqual(await stateRange(afterInstall), expected);
    assert.deepEqual(decodeSnapshotMeta((await afterInstall.get(SNAPSHOT_META_KEY))!), meta10);
    assert.equal(await countRange(afterInstall, STAGING_RANGE), 0);
    await afterInstall.close();
    await leader.db.close();
  });
});

/** Rewrites the install marker's phase byte, to stand in for a crash at that phase. */
async function setMarkerPhase(db: Db, phase: number): Promise<void> {
  const marker = await db.get(IMPORT_MARKER_KEY);
  assert.ok(marker !== undefined);
  marker[0] = phase;
  await db.put(IMPORT_MARKER_KEY, marker);
}
