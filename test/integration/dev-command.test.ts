// `raftline dev` (what `npm start` runs) prints each node's gRPC endpoint next to its dashboard and
// metrics URLs, and those URLs answer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliPath } from "../support/cluster";
import { waitFor } from "../support/wait";

const startDeadlineMs = 30000;
const stopDeadlineMs = 20000;

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** Four bases of three consecutive free ports each (the dev command numbers its nodes' ports so). */
async function freeRuns(): Promise<number[]> {
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    const bases = [base, base + 10, base + 20, base + 30];
    const ports = bases.flatMap((b) => [b, b + 1, b + 2]);
    if ((await Promise.all(ports.map(canBind))).every(Boolean)) return bases;
  }
}

test("raftline dev prints the Kafka listeners, dashboard and metrics URLs next to the gRPC endpoints", async (t) => {
  const [client, peer, http, kafka] = await freeRuns();
  const dataDir = mkdtempSync(join(tmpdir(), "raftline-dev-"));
  const child = spawn(process.execPath, [cliPath, "dev", "--data-dir", dataDir, "--client-port", String(client), "--peer-port", String(peer), "--http-port", String(http), "--kafka-port", String(kafka)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  });
  let out = "";
  child.stdout?.on("data", (b: Buffer) => (out += b.toString()));

  await waitFor(() => out.includes("Ctrl-C stops it"), startDeadlineMs, "the cluster to come up");
  for (let i = 0; i < 3; i++) {
    const line = new RegExp(`node ${i + 1}: 127\\.0\\.0\\.1:${client + i} +kafka 127\\.0\\.0\\.1:${kafka + i} +dashboard http://127\\.0\\.0\\.1:${http + i}/ +metrics http://127\\.0\\.0\\.1:${http + i}/metrics`);
    assert.match(out, line);
  }
  assert.match(out, new RegExp(`bootstrap servers 127\\.0\\.0\\.1:${kafka},127\\.0\\.0\\.1:${kafka + 1},127\\.0\\.0\\.1:${kafka + 2}`));
  const page = await fetch(`http://127.0.0.1:${http}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<title>Raftline<\/title>/);
  const metrics = await fetch(`http://127.0.0.1:${http + 2}/metrics`);
  assert.match(await metrics.text(), /raftline_raft_term\{node="3"\}/);

  child.kill("SIGINT");
  await waitFor(() => child.exitCode !== null || child.signalCode !== null, stopDeadlineMs, "the dev cluster to stop");
});

test("raftline dev --nodes takes an odd count up to seven and refuses others as bad usage", async () => {
  const child = spawn(process.execPath, [cliPath, "dev", "--nodes", "4", "--data-dir", join(tmpdir(), "raftline-dev-unused")], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  assert.equal(code, 2, stderr);
  assert.match(stderr, /--nodes must be one of 1, 3, 5, 7/);
});
