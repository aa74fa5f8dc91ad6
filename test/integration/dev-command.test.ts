// `raftline dev` (what `npm start` runs) prints each node's gRPC endpoint next to its dashboard and
// metrics URLs, and those URLs answer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliPath } from "../support/cluster";
import { waitFor, withDeadline } from "../support/wait";

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

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

function httpsGet(url: string, ca: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = "";
      res.on("data", (b: Buffer) => (body += b.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("raftline dev --secure makes a CA and certificates under the data dir, prints how to connect, and the CLI connects with them", async (t) => {
  const [client, peer, http] = await freeRuns();
  const dataDir = mkdtempSync(join(tmpdir(), "raftline-dev-secure-"));
  const args = [cliPath, "dev", "--secure", "--data-dir", dataDir, "--client-port", String(client), "--peer-port", String(peer), "--http-port", String(http)];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  });
  let out = "";
  child.stdout?.on("data", (b: Buffer) => (out += b.toString()));
  await waitFor(() => out.includes("Ctrl-C stops it"), startDeadlineMs, "the secure cluster to come up");
  const tls = join(dataDir, "tls");
  assert.match(out, new RegExp(`export RAFTLINE_TLS_CA=${tls}/ca\\.crt`));
  assert.match(out, new RegExp(`dashboard https://127\\.0\\.0\\.1:${http}/`));
  const token = readFileSync(join(tls, "superuser.token"), "utf8").trim();
  assert.ok(!out.includes(token), "the token is not printed");

  const brokers = [0, 1, 2].map((i) => `127.0.0.1:${client + i}`).join(",");
  const asAdmin = { RAFTLINE_BROKERS: brokers, RAFTLINE_TLS_CA: join(tls, "ca.crt"), RAFTLINE_TOKEN_FILE: join(tls, "superuser.token") };
  const created = await cli(["topic", "create", "secure-hello"], asAdmin);
  assert.equal(created.code, 0, created.stderr);
  const byCert = await cli(["topic", "list", "--json"], { RAFTLINE_BROKERS: brokers, RAFTLINE_TLS_CA: join(tls, "ca.crt"), RAFTLINE_TLS_CERT: join(tls, "admin.crt"), RAFTLINE_TLS_KEY: join(tls, "admin.key") });
  assert.equal(byCert.code, 0, byCert.stderr);
  assert.match(byCert.stdout, /secure-hello/);
  const anonymous = await cli(["topic", "list"], { RAFTLINE_BROKERS: brokers, RAFTLINE_TLS_CA: join(tls, "ca.crt") });
  assert.equal(anonymous.code, 1);
  assert.match(anonymous.stderr, /UNAUTHENTICATED/);

  const acl = await cli(["acl", "add", "--principal", "bob", "--operation", "produce", "--operation", "consume", "--topic", "bob-", "--prefix"], asAdmin);
  assert.equal(acl.code, 0, acl.stderr);
  const made = await cli(["token", "create", "bob"], asAdmin);
  assert.equal(made.code, 0, made.stderr);
  const listed = await cli(["acl", "list", "--json"], asAdmin);
  assert.deepEqual(JSON.parse(listed.stdout).map((a: { operation: string }) => a.operation).sort(), ["consume", "produce"]);
  const bobToken = join(dataDir, "bob.token");
  writeFileSync(bobToken, made.stdout);
  const bob = { RAFTLINE_BROKERS: brokers, RAFTLINE_TLS_CA: join(tls, "ca.crt"), RAFTLINE_TOKEN_FILE: bobToken };
  const denied = await cli(["topic", "create", "bob-1"], bob);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /PERMISSION_DENIED NOT_AUTHORIZED: principal "bob" may not create on topic "bob-1"/);

  const ca = readFileSync(join(tls, "ca.crt"), "utf8");
  assert.equal((await httpsGet(`https://127.0.0.1:${http}/metrics`, ca)).status, 401);
  const metrics = await httpsGet(`https://127.0.0.1:${http}/metrics`, ca, token);
  assert.equal(metrics.status, 200);
  assert.match(metrics.body, /raftline_raft_term\{node="1"\}/);

  child.kill("SIGINT");
  await withDeadline(exited, stopDeadlineMs, "the secure dev cluster to stop");
});
