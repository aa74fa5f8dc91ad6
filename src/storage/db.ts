// One LevelDB per node: raft log, hard state and the broker's state share it, so that one fsync makes
// all of them durable together.
import { mkdir } from "node:fs/promises";
import { ClassicLevel, type ChainedBatch, type Snapshot } from "classic-level";
import { finishInterruptedImport } from "./snapshot-store";

export type Db = ClassicLevel<Buffer, Buffer>;

export type DbBatch = ChainedBatch<Db, Buffer, Buffer>;
/** An explicit read snapshot: a fixed version of the database that later writes do not change. */
export type DbSnapshot = Snapshot;

/** The part of a write batch the stores add to; the caller creates the batch and writes it. */
export interface BatchOps {
  put(key: Buffer, value: Buffer): unknown;
  del(key: Buffer): unknown;
}

/**
 * Opens (creating if needed) the node's database. A snapshot install that a crash interrupted is
 * completed or rolled back here, before anyone reads the state.
 */
export interface DbOptions {
  /**
   * LevelDB memtable size: how much is written before a flush to a level-0 table. Larger means fewer
   * flushes (and "memtable full" stalls) under sustained writes; LevelDB holds up to two of them, so it
   * is also the largest single share of a busy node's memory.
   */
  writeBufferBytes: number;
  /**
   * Table files kept open. LevelDB maps a table it reads into memory (its first 1000 open ones), and the
   * pages read stay resident, counted in RSS, until the table is closed: this bounds them.
   */
  maxOpenFiles: number;
}

export const defaultDbOptions: DbOptions = { writeBufferBytes: 64 * 1024 * 1024, maxOpenFiles: 100 };

export async function openDatabase(dir: string, options: DbOptions = defaultDbOptions): Promise<Db> {
  await mkdir(dir, { recursive: true });
  const db: Db = new ClassicLevel<Buffer, Buffer>(dir, {
    keyEncoding: "buffer",
    valueEncoding: "buffer",
    // Record values are mostly opaque payloads: compressing them costs CPU for little gain.
    compression: false,
    writeBufferSize: options.writeBufferBytes,
    maxOpenFiles: options.maxOpenFiles,
  });
  await db.open();
  try {
    await finishInterruptedImport(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}
