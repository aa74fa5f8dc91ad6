// docker-compose.yml must stay a valid three-broker cluster definition, docker-compose.5.yml a five-broker one. No Docker engine is needed:
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

function definesBrokers(file: string, count: number): () => Promise<void> {
  return async () => {
    const path = join(repoRoot, file);
    const ids = Array.from({ length: count }, (_, i) => i + 1);
    const { stdout } = await run(dockerCompose, ["-f", path, "config"], { cwd: repoRoot });
    const services = await run(dockerCompose, ["-f", path, "config", "--services"], { cwd: repoRoot });
    assert.deepEqual(services.stdout.trim().split("\n").sort(), ids.map((id) => `raftline-${id}`));
    const members = ids.map((id) => `${id}=raftline-${id}:7001,raftline-${id}:7101`).join(";");
    for (const id of ids) {
      assert.match(stdout, new RegExp(`RAFTLINE_ID: '?${id}'?`), `raftline-${id} has its id`);
      assert.match(stdout, new RegExp(`published: ${7000 + id}|- ${7000 + id}:7001`), `raftline-${id} publishes its client port`);
      assert.ok(stdout.includes(`raftline-${id}-data:/var/lib/raftline`), `raftline-${id} keeps its data in a named volume`);
      assert.match(stdout, new RegExp(`published: ${8000 + id}|- ${8000 + id}:8001`), `raftline-${id} publishes its dashboard and metrics`);
    }
    assert.equal(stdout.split(`RAFTLINE_MEMBERS: ${members}`).length - 1, count, "every broker gets the same member list");
    assert.equal(stdout.split("RAFTLINE_DATA_DIR: /var/lib/raftline").length - 1, count, "every broker's data dir is its volume");
    assert.equal(stdout.split("RAFTLINE_HTTP_ADDRESS: 0.0.0.0:8001").length - 1, count, "every broker serves metrics and the dashboard");
    const volumes = await run(dockerCompose, ["-f", path, "config", "--volumes"], { cwd: repoRoot });
    assert.equal(volumes.stdout.trim().split("\n").length, count, "one named data volume per broker");
  };
}

const skip = existsSync(dockerCompose) ? false : `${dockerCompose} is missing (Debian package docker-compose)`;

test("docker-compose.yml defines three brokers that name each other as members", { skip }, definesBrokers("docker-compose.yml", 3));

test("docker-compose.5.yml defines five brokers that name each other as members", { skip }, definesBrokers("docker-compose.5.yml", 5));

test("docker-compose.secure.yml makes the certificates once and gives every broker TLS, its CA and the superuser token", { skip }, async () => {
  const path = join(repoRoot, "docker-compose.secure.yml");
  const { stdout } = await run(dockerCompose, ["-f", path, "config"], { cwd: repoRoot });
  const services = await run(dockerCompose, ["-f", path, "config", "--services"], { cwd: repoRoot });
  assert.deepEqual(services.stdout.trim().split("\n").sort(), ["certs", "raftline-1", "raftline-2", "raftline-3"]);
  for (const key of ["RAFTLINE_TLS_CERT", "RAFTLINE_TLS_KEY", "RAFTLINE_TLS_CA", "RAFTLINE_SUPERUSER_TOKEN_FILE"]) {
    assert.equal(stdout.split(`${key}: /var/lib/raftline-tls/`).length - 1, 3, `every broker has ${key}`);
  }
  assert.match(stdout, /service_completed_successfully/);
});
