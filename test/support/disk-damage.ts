// Damage to a stopped node's LevelDB files, as a failing disk would do it: bytes flipped in its tables
// (.ldb) and write-ahead log (.log), or a file cut short. Only ever applied to a node's own temporary
// data directory while its process is down.
import { readFile, readdir, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** The LevelDB files a flip may hit: sorted tables and write-ahead logs. */
export async function levelDbFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  return names.filter((n) => /^\d+\.(ldb|log)$/.test(n)).sort().map((n) => join(dir, n));
}

/** Flips one byte in the middle of every occurrence of `needle` in the node's LevelDB files; returns how many. */
export async function flipBytesInside(dir: string, needle: Buffer): Promise<number> {
  let flipped = 0;
  for (const file of await levelDbFiles(dir)) {
    const bytes = await readFile(file);
    let changed = false;
    for (let at = bytes.indexOf(needle); at >= 0; at = bytes.indexOf(needle, at + needle.length)) {
      bytes[at + (needle.length >> 1)] ^= 0x20;
      flipped++;
      changed = true;
    }
    if (changed) await writeFile(file, bytes);
  }
  return flipped;
}

/** Flips `count` bytes at places `random` picks (uniform in [0, 1)) across the node's LevelDB files. */
export async function flipRandomBytes(dir: string, count: number, random: () => number): Promise<string[]> {
  const files = await levelDbFiles(dir);
  const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total === 0) return [];
  const hits: string[] = [];
  for (let i = 0; i < count; i++) {
    let at = Math.floor(random() * total);
    const index = sizes.findIndex((size) => (at < size ? true : ((at -= size), false)));
    const bytes = await readFile(files[index]);
    bytes[at] ^= 1 << Math.floor(random() * 8);
    await writeFile(files[index], bytes);
    hits.push(`${files[index].split("/").pop()}@${at}`);
  }
  return hits;
}

/** Cuts the largest table (or, without tables, the manifest) to half its size; returns its name. */
export async function truncateLargestTable(dir: string): Promise<string> {
  const names = await readdir(dir);
  const tables = names.filter((n) => /^\d+\.ldb$/.test(n));
  const candidates = tables.length > 0 ? tables : names.filter((n) => n.startsWith("MANIFEST-"));
  const sized = await Promise.all(candidates.map(async (n) => ({ n, size: (await stat(join(dir, n))).size })));
  const largest = sized.sort((a, b) => b.size - a.size)[0];
  if (largest === undefined) throw new Error(`no LevelDB table or manifest in ${dir}`);
  await truncate(join(dir, largest.n), Math.floor(largest.size / 2));
  return largest.n;
}
