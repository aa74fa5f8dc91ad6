// What every bench shares: medians, a plain-text table on stdout, and a JSON record under bench/results/.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("median of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Prints rows under a header, each column padded to its widest cell (numbers right-aligned). */
export function printTable(title: string, header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): void {
  const cells = [header.map(String), ...rows.map((row) => row.map(formatCell))];
  const widths = header.map((_, c) => Math.max(...cells.map((row) => row[c].length)));
  const line = (row: readonly string[], numeric: boolean) =>
    row.map((cell, c) => (numeric && c > 0 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join("  ");
  console.log(title);
  console.log(line(cells[0], false));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of cells.slice(1)) console.log(line(row, true));
}

/** Writes `data` to bench/results/<name>-<timestamp>.json and returns the path. */
export function writeResults(name: string, data: unknown): string {
  const dir = join(packageRoot(), "bench", "results");
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const path = join(dir, `${name}-${stamp}.json`);
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}

/** Facts about the machine a result was measured on, recorded beside it. */
export function machineFacts(): { node: string; platform: string; arch: string } {
  return { node: process.version, platform: process.platform, arch: process.arch };
}

function formatCell(cell: string | number): string {
  if (typeof cell === "string") return cell;
  return Number.isInteger(cell) ? cell.toLocaleString("en-US") : cell.toLocaleString("en-US", { maximumFractionDigits: 1 });
}

/** The directory holding package.json, found by walking up from the compiled file. */
function packageRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) return resolve(".");
    dir = parent;
  }
  return dir;
}
