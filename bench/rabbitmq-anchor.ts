// RabbitMQ quorum queues (3 replicas, publisher confirms, manual acks) measured in the same benchmark run,
// with the anchor kept beside the repository (../shared/anchors/rabbitmq, read-only): it is copied to a
// scratch folder, its cluster.sh starts three local nodes, its bench.js publishes and then consumes
// (prefetch 1000, acks every 100), and its JSON lines are read back. Needs rabbitmq-server from Debian
// (`apt-get install -y rabbitmq-server`) and the anchor's amqplib, which is installed with `npm ci`.
import { spawn } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./broker-paths";

export interface RabbitSettings {
  sizesBytes: number[];
  /** Messages published (window 256) and then consumed, per size. */
  messages: number;
  /** Repeats per size; the median is reported. */
  reps: number;
}

export interface RabbitFigure {
  sizeBytes: number;
  /** Consume rate (deliveries acknowledged) per run. */
  consumePerSec: number[];
  /** Publish rate with confirms, window 256, per run. */
  publishPerSec: number[];
}

export type RabbitResult = { ran: true; figures: RabbitFigure[]; version: string } | { ran: false; why: string };

const anchorFiles = ["cluster.sh", "bench.js", "package.json", "package-lock.json"];
const serverScript = "/usr/lib/rabbitmq/bin/rabbitmq-server";
/** Longest any one anchor step may take (a cluster boot on a busy machine is slow). */
const stepTimeoutMs = 600_000;

export function defaultRabbitAnchorDir(): string {
  return join(repoRoot(), "..", "shared", "anchors", "rabbitmq");
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString("utf8")));
    child.stderr.on("data", (b: Buffer) => {
      err += b.toString("utf8");
      for (const line of b.toString("utf8").split("\n")) if (line.trim()) process.stderr.write(`  [rabbitmq] ${line}\n`);
    });
    const timer = setTimeout(() => child.kill("SIGTERM"), stepTimeoutMs);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${command} ${args.join(" ")} exited ${code}: ${err.slice(-2000)}`));
    });
  });
}

interface AnchorLine {
  kind: string;
  size: number;
  msgs_per_s: number;
}

export async function runRabbitAnchor(settings: RabbitSettings, anchorDir: string): Promise<RabbitResult> {
  if (!existsSync(serverScript)) return { ran: false, why: "rabbitmq-server is not installed (Debian: apt-get install -y rabbitmq-server)" };
  if (!existsSync(join(anchorDir, "bench.js"))) return { ran: false, why: `no RabbitMQ anchor at ${anchorDir}` };
  const work = mkdtempSync(join(tmpdir(), "raftline-rmq-anchor-"));
  for (const f of anchorFiles) {
    copyFileSync(join(anchorDir, f), join(work, f));
    chmodSync(join(work, f), 0o755);
  }
  await run("npm", ["ci", "--no-audit", "--no-fund", "--silent"], work);
  // cluster.sh insists on a base under /tmp/rmqbench-* and acts only on the processes it started there.
  const base = mkdtempSync("/tmp/rmqbench-");
  const out = join(work, "results.jsonl");
  const env = { ...process.env, QUIET_WAIT_S: "0" };
  try {
    await run("bash", [join(work, "cluster.sh"), "start", base], work, env);
    await run("node", [join(work, "bench.js"), "ready", "--base", base], work, env);
    for (let rep = 1; rep <= settings.reps; rep++) {
      for (const size of settings.sizesBytes) {
        const leader = ((rep - 1) % 3) + 1;
        const args = ["pub", "--base", base, "--size", String(size), "--mode", "async", "--window", "256", "--count", String(settings.messages), "--consume", "--leader", String(leader), "--rep", String(rep), "--out", out];
        await run("node", [join(work, "bench.js"), ...args], work, env);
      }
    }
  } finally {
    await run("bash", [join(work, "cluster.sh"), "stop", base], work, env).catch(() => undefined);
    rmSync(base, { recursive: true, force: true });
  }
  const lines = readFileSync(out, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as AnchorLine);
  const version = await run("dpkg-query", ["-W", "-f=${Version}", "rabbitmq-server"], work).catch(() => "unknown");
  rmSync(work, { recursive: true, force: true });
  return {
    ran: true,
    version,
    figures: settings.sizesBytes.map((sizeBytes) => ({
      sizeBytes,
      consumePerSec: lines.filter((l) => l.kind === "consume" && l.size === sizeBytes).map((l) => l.msgs_per_s),
      publishPerSec: lines.filter((l) => l.kind === "pub" && l.size === sizeBytes).map((l) => l.msgs_per_s),
    })),
  };
}
