// The repository's root folder, found from compiled tests (which run from different output folders) by
// its proto/ folder. An output folder may reach the sources through a link; the root is where the real
// proto/ folder lives.
import { existsSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";

const maxLevelsUp = 8;

function findRepoRoot(): string {
  let dir = __dirname;
  for (let level = 0; level < maxLevelsUp; level++) {
    if (existsSync(join(dir, "proto", "raftline", "v1"))) return dirname(realpathSync(join(dir, "proto")));
    dir = dirname(dir);
  }
  throw new Error("proto/raftline/v1 not found above " + __dirname);
}

export const repoRoot = findRepoRoot();
export const protoRoot = join(repoRoot, "proto");
