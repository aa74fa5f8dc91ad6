import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StorageCorruption } from "../../src/storage/corruption";
import { openDatabase } from "../../src/storage/db";
import { checkLogFile, checkLevelDbFiles } from "../../src/storage/leveldb-file-check";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** A closed database whose writes (several blocks' worth) are still only in its log file. */
async function databaseWithLog(): Promise<{ dir: string; log: string }> {
  const dir = await mkdtemp(join(tmpdir(), "raftline-log-check-"));
  dirs.push(dir);
  const db = await openDatabase(dir);
  for (let i = 0; i < 40; i++) await db.put(Buffer.from(`key-${i}`), Buffer.alloc(3000, i), { sync: true });
  await db.close();
  const [name] = (await readdir(dir)).filter((n) => /^\d+\.log$/.test(n));
  return { dir, log: join(dir, name) };
}

describe("LevelDB file checks", () => {
  it("accepts the log LevelDB wrote, and a record torn at its end", async () => {
    const { dir, log } = await databaseWithLog();
    await checkLevelDbFiles(dir);
    const size = (await readFile(log)).length;
    await truncate(log, size - 100);
    await checkLevelDbFiles(dir);
  });

  it("finds a flipped byte anywhere in a record, where LevelDB would silently skip the block", async () => {
    const { log } = await databaseWithLog();
    const bytes = await readFile(log);
    for (const at of [0, 5, 7, 100, 32768 + 50, bytes.length - 10]) {
      const flipped = Buffer.from(bytes);
      flipped[at] ^= 0x04;
      assert.throws(() => checkLogFile(flipped, "000003.log"), StorageCorruption, `byte ${at}`);
    }
  });

  it("is reached through the data directory", async () => {
    const { dir, log } = await databaseWithLog();
    const bytes = await readFile(log);
    bytes[40000] ^= 0xff;
    await writeFile(log, bytes);
    await assert.rejects(checkLevelDbFiles(dir), /LevelDB log \d+\.log at byte \d+/);
    await checkLevelDbFiles(join(dir, "missing"));
  });
});

describe("LevelDB table check", () => {
  it("accepts the tables LevelDB wrote and finds one cut short", async () => {
    const { dir } = await databaseWithLog();
    // Reopening turns the log into a table.
    const db = await openDatabase(dir);
    await db.close();
    const [table] = (await readdir(dir)).filter((n) => /^\d+\.ldb$/.test(n));
    assert.ok(table, "a table was written");
    await checkLevelDbFiles(dir);
    const size = (await readFile(join(dir, table))).length;
    await truncate(join(dir, table), size - 1);
    await assert.rejects(checkLevelDbFiles(dir), /LevelDB table \d+\.ldb .* has no footer/);
  });
});
