// Every way of starting a node passes the same Node flags (src/cli/server-node-flags.ts): the CLI's
// shebang and the Dockerfile cannot import the list, so this test holds them to it.
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { serverNodeFlags } from "../../src/cli/server-node-flags";
import { layOutLocalCluster } from "../support/cluster-node";

const root = join(__dirname, "..", "..", "..");

test("the CLI's shebang starts node with the server flags", () => {
  const shebang = readFileSync(join(root, "src", "cli", "main.ts"), "utf8").split("\n")[0];
  assert.equal(shebang, `#!/usr/bin/env -S node ${serverNodeFlags.join(" ")}`);
});

test("the Dockerfile starts node with the server flags", () => {
  const entrypoint = readFileSync(join(root, "Dockerfile"), "utf8").split("\n").find((l) => l.startsWith("ENTRYPOINT"));
  assert.equal(entrypoint, `ENTRYPOINT ${JSON.stringify(["node", ...serverNodeFlags, "dist/src/cli/main.js"]).replace(/","/g, '", "')}`);
});

test("the test and bench harness starts nodes with the server flags", async () => {
  const { root: dir, nodes } = await layOutLocalCluster({ count: 1, cliPath: join(root, "dist", "src", "cli", "main.js"), dirPrefix: "raftline-flags-" });
  rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(nodes[0].spec.args.slice(0, serverNodeFlags.length), serverNodeFlags);
});
