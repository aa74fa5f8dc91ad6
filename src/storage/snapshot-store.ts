// Snapshots of the replicated state: the applied key 0x03, the broker range 0x10..0x1F, and the compacted
// raft entries that hold stored record batches (each once, after the first index key pointing at it).
//
// Export reads the state keys with one LevelDB iterator and the raft entries they point at with getMany,
// both from one read snapshot taken (or given) when `exportState` is called: the caller calls it right
// after applying up to the snapshot index and before the next apply write, and the stream is then
// exactly the state at that index however slowly it is consumed. A snapshot the caller gives must stay
// open until the stream ends: every read refuses a closed one.
//
// Install is two-phase and crash-safe without holding the whole state in memory:
//   stage:   pairs go under the staging prefix 0x06 in bounded batches; the live state is untouched.
//   install: (only once raft has accepted the snapshot) the raft entries the snapshot covers are dropped,
//            the live state is replaced by the staged copy, and the snapshot meta is written.
// A marker key (0x05) records the phase, and `finishInterruptedImport` runs at open: an interrupted
// stage is discarded (the old state is intact), an interrupted install is redone from the staged copy.
import type { ConfState, SnapshotMeta } from "../raft/types";
import type { Db, DbBatch, DbSnapshot } from "./db";
import {
  APPLIED_KEY,
  BROKER_RANGE,
  ENTRY_RANGE,
  IMPORT_MARKER_KEY,
  SNAPSHOT_META_KEY,
  STAGING_RANGE,
  STATE_SPAN,
  entryIndexOf,
  entryKey,
  isEntryKey,
  isStateKey,
  stagingKey,
  stateKeyOfStaging,
} from "./keys";
import { entryIndexOfBatch } from "./broker-store";
import { StorageCorruption } from "./corruption";
import { decodeApplied, decodeSnapshotMeta, encodeSnapshotMeta, entryTermOf } from "./raft-codec";
import { SnapshotDecoder, SnapshotEncoder } from "./snapshot-stream";

export const defaultMaxChunkBytes = 1024 * 1024;
/** Bound on one write batch while staging or installing, so memory stays flat for any state size. */
const maxInstallBatchBytes = 4 * 1024 * 1024;
/** Pairs read per iterator step. */
const readAheadPairs = 256;

enum ImportPhase {
  Staging = 1,
  Staged = 2,
  Installing = 3,
}

export interface ExportOptions {
  maxChunkBytes?: number;
  /** Read this explicit snapshot instead of the database as of the call. */
  snapshot?: DbSnapshot;
  /** True for an entry that holds several batches (EntryRefs.isShared): remembered so it is sent once. */
  sharedEntry?: (index: number) => boolean;
}

/**
 * A consistent copy of the state as of this call (or of `options.snapshot`), as chunks of at most
 * `maxChunkBytes`. Consume it to the end or break out of the loop: the iterator it holds is released
 * then (or when the database closes).
 */
export function exportState(db: Db, options: ExportOptions = {}): AsyncIterable<Buffer> {
  if (db.status !== "open") throw new Error(`cannot export state: database is ${db.status}`);
  const encoder = new SnapshotEncoder(options.maxChunkBytes ?? defaultMaxChunkBytes);
  const ownSnapshot = options.snapshot === undefined ? db.snapshot() : undefined;
  const snapshot = options.snapshot ?? ownSnapshot;
  const iterator = db.iterator({ gte: STATE_SPAN.gte, lt: STATE_SPAN.lt, snapshot });
  const sharedEntry = options.sharedEntry ?? (() => false);
  const sentShared = new Set<number>();
  let lastSent = 0;
  return (async function* chunks() {
    try {
      for (;;) {
        const page = await iterator.nextv(readAheadPairs);
        if (page.length === 0) break;
        const pairs: [Buffer, Buffer][] = [];
        const entries: number[] = [];
        for (const [key, value] of page) {
          if (!isStateKey(key)) {
            // Raft-only prefixes sit between the applied key and the broker range: skip them.
            iterator.seek(BROKER_RANGE.gte);
            break;
          }
          pairs.push([key, value]);
          const entry = entryIndexOfBatch(key, value);
          if (entry === undefined || entry === lastSent || sentShared.has(entry)) continue;
          lastSent = entry;
          if (sharedEntry(entry)) sentShared.add(entry);
          entries.push(entry);
        }
        const values = await db.getMany(entries.map(entryKey), { snapshot });
        entries.forEach((index, i) => {
          const value = values[i];
          if (value === undefined) throw new StorageCorruption(`raft entry ${index} holds stored batches but is missing`);
          checkEntry(index, value, Number.MAX_SAFE_INTEGER);
          pairs.push([entryKey(index), value]);
        });
        for (const [key, value] of pairs) encoder.add(key, value);
        yield* encoder.takeChunks();
      }
      yield* encoder.finish();
    } finally {
      await iterator.close();
      await ownSnapshot?.close();
    }
  })();
}

/**
 * Checks a carried raft entry (its checksum, and that it is no newer than the snapshot) before it leaves
 * this node or is installed, so damage is never copied to a peer. Throws StorageCorruption.
 */
function checkEntry(index: number, value: Buffer, maxTerm: number): void {
  const term = entryTermOf(value);
  if (term > maxTerm) throw new StorageCorruption(`carried raft entry ${index} has term ${term}, past the snapshot's ${maxTerm}`);
}

/**
 * Receives a snapshot's state into the staging area, leaving the live state alone. Rejects (and
 * discards what it staged) when the stream is malformed, cut short, or not the state at `meta.index`.
 */
export async function stageSnapshot(db: Db, chunks: AsyncIterable<Uint8Array>, meta: SnapshotMeta): Promise<void> {
  await assertNewerThanApplied(db, meta);
  await db.clear({ gte: STAGING_RANGE.gte, lt: STAGING_RANGE.lt });
  await writeMarker(db, ImportPhase.Staging, meta);
  try {
    const stagedApplied = await receive(db, chunks, meta);
    if (stagedApplied === undefined || stagedApplied.applied !== meta.index) {
      throw new Error(`snapshot data is the state at ${stagedApplied?.applied ?? "no index"}, meta says ${meta.index}`);
    }
    await writeMarker(db, ImportPhase.Staged, meta);
  } catch (err) {
    await discardStaged(db);
    throw err;
  }
}

/**
 * Replaces the live state with the staged snapshot `meta`, drops the raft entries it covers and
 * records it as the log's start, durably. Call once raft has accepted the snapshot (the Ready that
 * carries it), before persisting that Ready.
 */
export async function installStagedSnapshot(db: Db, meta: SnapshotMeta): Promise<void> {
  const marker = await readMarker(db);
  if (marker === undefined || marker.phase === ImportPhase.Staging) {
    throw new Error(`no staged snapshot to install at ${meta.index}`);
  }
  if (marker.meta.index !== meta.index || marker.meta.term !== meta.term) {
    throw new Error(`staged snapshot is ${marker.meta.index}/${marker.meta.term}, asked ${meta.index}/${meta.term}`);
  }
  await assertNewerThanApplied(db, meta);
  await writeMarker(db, ImportPhase.Installing, marker.meta);
  await install(db, marker.meta);
}

/** Stage then install in one go: only for a caller that knows raft will accept `meta`. */
export async function importState(db: Db, chunks: AsyncIterable<Uint8Array>, meta: SnapshotMeta): Promise<void> {
  await stageSnapshot(db, chunks, meta);
  await installStagedSnapshot(db, meta);
}

/** Drops a staged snapshot that raft did not accept. */
export async function discardStaged(db: Db): Promise<void> {
  await db.clear({ gte: STAGING_RANGE.gte, lt: STAGING_RANGE.lt });
  await db.batch().del(IMPORT_MARKER_KEY).write({ sync: true });
}

/** Run at open: completes an interrupted install, discards an interrupted or unused stage. */
export async function finishInterruptedImport(db: Db): Promise<void> {
  const marker = await readMarker(db);
  if (marker?.phase === ImportPhase.Installing) {
    await install(db, marker.meta);
    return;
  }
  if (marker !== undefined || (await hasAny(db, STAGING_RANGE.gte, STAGING_RANGE.lt))) await discardStaged(db);
}

async function receive(db: Db, chunks: AsyncIterable<Uint8Array>, meta: SnapshotMeta): Promise<{ applied: number; conf: ConfState } | undefined> {
  const decoder = new SnapshotDecoder();
  const writer = new BoundedWriter(db);
  let applied: { applied: number; conf: ConfState } | undefined;
  for await (const chunk of chunks) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (const [key, value] of decoder.push(bytes)) {
      if (isEntryKey(key)) {
        const index = entryIndexOf(key);
        if (index > meta.index) throw new Error(`snapshot at ${meta.index} carries raft entry ${index}`);
        checkEntry(index, value, meta.term);
      } else if (!isStateKey(key)) {
        throw new Error(`snapshot carries a non-state key ${key.toString("hex")}`);
      }
      if (key.equals(APPLIED_KEY)) applied = decodeApplied(value);
      await writer.put(stagingKey(key), value);
    }
  }
  decoder.finish();
  await writer.flush();
  return applied;
}

/** Idempotent: every step can run again after a crash, because the staged copy stays until the end. */
async function install(db: Db, meta: SnapshotMeta): Promise<void> {
  await db.batch().del(APPLIED_KEY).write({ sync: false });
  await db.clear({ gte: BROKER_RANGE.gte, lt: BROKER_RANGE.lt });
  // Before the copy, which brings the covered entries that hold stored batches back.
  await dropCoveredEntries(db, meta);
  const writer = new BoundedWriter(db);
  const iterator = db.iterator({ gte: STAGING_RANGE.gte, lt: STAGING_RANGE.lt });
  try {
    for (;;) {
      const page = await iterator.nextv(readAheadPairs);
      if (page.length === 0) break;
      for (const [key, value] of page) await writer.put(stateKeyOfStaging(key), value);
    }
  } finally {
    await iterator.close();
  }
  await writer.flush();
  await db.batch().put(SNAPSHOT_META_KEY, encodeSnapshotMeta(meta)).del(IMPORT_MARKER_KEY).write({ sync: true });
  await db.clear({ gte: STAGING_RANGE.gte, lt: STAGING_RANGE.lt });
}

/**
 * Entries after the snapshot survive only if the log holds the snapshot's own entry (same term):
 * by Log Matching they extend the snapshot's history. Otherwise the whole log goes. (Run again after a
 * crash, the snapshot's own entry may be the carried copy: committed, so the same term, and the suffix
 * is then already gone or rightly kept.)
 */
async function dropCoveredEntries(db: Db, meta: SnapshotMeta): Promise<void> {
  const atIndex = await db.get(entryKey(meta.index));
  const keepsSuffix = atIndex !== undefined && entryTermOf(atIndex) === meta.term;
  const lt = keepsSuffix ? entryKey(meta.index + 1) : ENTRY_RANGE.lt;
  await db.clear({ gte: ENTRY_RANGE.gte, lt });
}

async function assertNewerThanApplied(db: Db, meta: SnapshotMeta): Promise<void> {
  const value = await db.get(APPLIED_KEY);
  const applied = value === undefined ? 0 : decodeApplied(value).applied;
  if (meta.index <= applied) throw new Error(`snapshot at ${meta.index} is not past the applied index ${applied}`);
}

async function writeMarker(db: Db, phase: ImportPhase, meta: SnapshotMeta): Promise<void> {
  const value = Buffer.concat([Buffer.from([phase]), encodeSnapshotMeta(meta)]);
  await db.batch().put(IMPORT_MARKER_KEY, value).write({ sync: true });
}

async function readMarker(db: Db): Promise<{ phase: ImportPhase; meta: SnapshotMeta } | undefined> {
  const value = await db.get(IMPORT_MARKER_KEY);
  if (value === undefined) return undefined;
  const phase = value[0];
  if (phase !== ImportPhase.Staging && phase !== ImportPhase.Staged && phase !== ImportPhase.Installing) {
    throw new Error(`corrupt snapshot-install marker: ${value.toString("hex")}`);
  }
  return { phase, meta: decodeSnapshotMeta(value.subarray(1)) };
}

async function hasAny(db: Db, gte: Buffer, lt: Buffer): Promise<boolean> {
  const keys = await db.keys({ gte, lt, limit: 1 }).all();
  return keys.length > 0;
}

/** Accumulates puts and writes them whenever `maxInstallBatchBytes` is reached. */
class BoundedWriter {
  private batch: DbBatch | undefined;
  private bytes = 0;

  constructor(private readonly db: Db) {}

  async put(key: Buffer, value: Buffer): Promise<void> {
    this.batch ??= this.db.batch();
    this.batch.put(key, value);
    this.bytes += key.length + value.length;
    if (this.bytes >= maxInstallBatchBytes) await this.flush();
  }

  /** Not synced: the marker protocol makes the final synced write cover everything before it. */
  async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = undefined;
    this.bytes = 0;
    if (batch !== undefined) await batch.write({ sync: false });
  }
}
