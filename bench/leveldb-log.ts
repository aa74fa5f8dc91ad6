// What LevelDB's own info log (LOG, and LOG.old after a reopen) says about one node's database: bytes
// flushed from the memtable to level-0 tables, bytes compactions wrote, tables moved down a level
// without a rewrite, and the writes it stopped because level 0 or the memtables were full. Beside the
// bytes the clients produced this gives the write amplification, which the process's CPU and the
// disk pay for but no profile of JavaScript shows.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface LevelDbActivity {
  flushes: number;
  flushedBytes: number;
  compactions: number;
  compactedBytes: number;
  trivialMoves: number;
  /** "Too many L0 files; waiting..." lines: writes held until a compaction ends. */
  level0Stops: number;
  /** "Current memtable full; waiting..." lines: writes held until a flush ends. */
  memtableStops: number;
}

export function levelDbActivity(dataDir: string): LevelDbActivity {
  const out: LevelDbActivity = { flushes: 0, flushedBytes: 0, compactions: 0, compactedBytes: 0, trivialMoves: 0, level0Stops: 0, memtableStops: 0 };
  for (const name of ["LOG.old", "LOG"]) {
    const path = join(dataDir, name);
    if (!existsSync(path)) continue;
    for (const line of readFileSync(path, "utf8").split("\n")) {
      let m = /Level-0 table #\d+: (\d+) bytes OK/.exec(line);
      if (m) {
        out.flushes++;
        out.flushedBytes += Number(m[1]);
        continue;
      }
      m = /Compacted \d+@\d+ \+ \d+@\d+ files => (\d+) bytes/.exec(line);
      if (m) {
        out.compactions++;
        out.compactedBytes += Number(m[1]);
        continue;
      }
      if (/Moved #\d+ to level-\d+/.test(line)) out.trivialMoves++;
      else if (line.includes("Too many L0 files; waiting")) out.level0Stops++;
      else if (line.includes("Current memtable full; waiting")) out.memtableStops++;
    }
  }
  return out;
}
