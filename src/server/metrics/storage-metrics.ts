// The node's data directory (LevelDB files and snapshots) on disk, summed at scrape time.
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { Gauge } from "prom-client";
import type { MetricsArea } from "./metrics-area";

/** A data directory is a few levels deep; the walk stops below this. */
const maxDepth = 4;

async function directoryBytes(dir: string, depth: number): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0; // removed while we looked (compaction replaces files)
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (depth < maxDepth) total += await directoryBytes(path, depth + 1);
    } else if (e.isFile()) {
      total += await stat(path).then((s) => s.size, () => 0);
    }
  }
  return total;
}

export const storageMetrics: MetricsArea = (registry, sources) => {
  new Gauge({
    name: "raftline_leveldb_size_bytes",
    help: "Bytes of files in the node's data directory (LevelDB and snapshots)",
    registers: [registry],
    async collect() {
      this.set(await directoryBytes(sources.dataDir, 0));
    },
  });
  new Gauge({
    name: "raftline_storage_damaged",
    help: "1 while the node's stored data is damaged or being repaired from its peers (it serves no reads), else 0",
    registers: [registry],
    collect() {
      this.set(sources.damaged() ? 1 : 0);
    },
  });
};
