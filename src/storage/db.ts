// One LevelDB per node: raft log, hard state and the broker's state share it, so that one fsync makes
// all of them durable together.
import { mkdir } from "node:fs/promises";
import { ClassicLevel, type ChainedBatch } from "classic-level";
import { finishInterruptedImport } from "./snapshot-store";

export type Db = ClassicLevel<Buffer, Buffer>;
export type DbBatch = ChainedBatch<Db, Buffer, Buffer>;

/**
 * Opens (creating if needed) the node's database. A snapshot install that a crash interrupted is
 * completed or rolled back here, before anyone reads the state.
 */
export async function openDatabase(dir: string): Promise<Db> {
  await mkdir(dir, { recursive: true });
  const db: Db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: "buffer", valueEncoding: "buffer" });
  await db.open();
  try {
    await finishInterruptedImport(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}
