// Where things are, from the compiled benchmark's own location (dist/bench or another output folder).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

/** The repository root: the first folder up from here holding package.json and proto/raftline. */
export function repoRoot(from: string = __dirname): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "proto", "raftline"))) return dir;
  }
  throw new Error(`no repository root above ${from}`);
}
