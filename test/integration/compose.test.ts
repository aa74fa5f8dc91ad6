// docker-compose.yml must stay a valid three-broker cluster definition. No Docker engine is needed:
// `docker-compose config` parses, validates and prints the resolved file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "../support/repo-root";

const run = promisify(execFile);
const dockerCompose = "/usr/bin/docker-compose";

test(
  "docker-compose.yml defines three brokers that name each other as members",
  { skip: existsSync(dockerCompose) ? false : `${dockerCompose} is missing (Debian package docker-compose)` },
  async () => {
    const { stdout } = await run(dockerCompose, ["-f", join(repoRoot, "docker-compose.yml"), "config"], { cwd: repoRoot });
    const services = await run(dockerCompose, ["-f", join(repoRoot, "docker-compose.yml"), "config", "--services"], { cwd: repoRoot });
    assert.deepEqual(services.stdout.trim().split("\n").sort(), ["raftline-1", "raftline-2", "raftline-3"]);
    const members = "1=raftline-1:7001,raftline-1:7101;2=raftline-2:7001,raftline-2:7101;3=raftline-3:7001,raftline-3:7101";
    for (const id of [1, 2, 3]) {
      assert.match(stdout, new RegExp(`RAFTLINE_ID: '?${id}'?`), `raftline-${id} has its id`);
      assert.match(stdout, new RegExp(`published: ${7000 + id}|- ${7000 + id}:7001`), `raftline-${id} publishes its client port`);
      assert.ok(stdout.includes(`raftline-${id}-data:/var/lib/raftline`), `raftline-${id} keeps its data in a named volume`);
      assert.match(stdout, new RegExp(`published: ${8000 + id}|- ${8000 + id}:8001`), `raftline-${id} publishes its dashboard and metrics`);
    }
    assert.equal(stdout.split(`RAFTLINE_MEMBERS: ${members}`).length - 1, 3, "every broker gets the same member list");
    assert.equal(stdout.split("RAFTLINE_DATA_DIR: /var/lib/raftline").length - 1, 3, "every broker's data dir is its volume");
    assert.equal(stdout.split("RAFTLINE_HTTP_ADDRESS: 0.0.0.0:8001").length - 1, 3, "every broker serves metrics and the dashboard");
    const volumes = await run(dockerCompose, ["-f", join(repoRoot, "docker-compose.yml"), "config", "--volumes"], { cwd: repoRoot });
    assert.equal(volumes.stdout.trim().split("\n").length, 3, "one named data volume per broker");
  },
);
