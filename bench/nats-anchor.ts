// Runs the NATS JetStream R3 reference (the anchor kept beside the repository, read-only) in the same
// benchmark run: it is copied to a scratch folder (its run.sh writes results and installs its client
// beside itself), run with the settings chosen here, and its results.jsonl is read back.
import { spawn } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { repoRoot } from "./broker-paths";
import { Spread, median, spread } from "./broker-stats";

export interface NatsSettings {
  /** The anchor's own knobs (see its README): repetitions, messages per run, sizes, windows. */
  reps: number;
  syncMessages: number;
  asyncMessages: number;
  sizesBytes: number[];
  windows: number[];
  /** Hard cap on the whole anchor run; it is stopped (its own traps clean up) when exceeded. */
  timeoutMs: number;
}

export interface NatsFigure {
  /** sync = js.publish awaiting each ack; async = js.publish pipelined; raw = core publish with reply inbox; fetch / consume = pull consumers. */
  mode: "sync" | "async" | "raw" | "fetch" | "consume";
  sizeBytes: number;
  /** Publishes in flight (pipelined modes). */
  window?: number;
  runs: number;
  msgsPerSec: Spread;
  mbPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  serverCpuUsPerMsg: number;
  clientCpuUsPerMsg: number;
  /** CPU cores busy with processes outside the anchor's run, as the anchor measured it. */
  otherCores: number;
}

export interface NatsResult {
  settings: NatsSettings;
  exitCode: number | null;
  logFile: string;
  resultsFile: string;
  env: string;
  figures: NatsFigure[];
}

/** What run.sh reads besides itself; results/ and node_modules/ are not copied. */
const anchorFiles = ["run.sh", "cluster.sh", "bench.js", "package.json", "package-lock.json", "README.md"];
/** SIGTERM's grace before SIGKILL when the anchor overruns. */
const stopGraceMs = 30000;
/** Output kept from the anchor's stdout and stderr for the log file. */
const maxLogChars = 1_000_000;

export function defaultAnchorDir(): string {
  return join(repoRoot(), "..", "shared", "anchors", "nats");
}

function prepareWorkDir(anchorDir: string, workDir: string): void {
  for (const f of anchorFiles) {
    if (!existsSync(join(anchorDir, f))) throw new Error(`NATS anchor file ${join(anchorDir, f)} is missing`);
  }
  mkdirSync(workDir, { recursive: true });
  for (const f of anchorFiles) {
    const target = join(workDir, f);
    if (existsSync(target)) chmodSync(target, 0o755);
    copyFileSync(join(anchorDir, f), target);
    chmodSync(target, 0o755);
  }
}

function anchorEnv(s: NatsSettings): NodeJS.ProcessEnv {
  return {
    ...process.env,
    REPS: String(s.reps),
    FAILOVER_REPS: "0",
    N_SYNC: String(s.syncMessages),
    N_ASYNC: String(s.asyncMessages),
    SIZES: s.sizesBytes.join(" "),
    WINDOWS: s.windows.join(" "),
  };
}

function runScript(workDir: string, s: NatsSettings, logPath: string): Promise<{ exitCode: number | null; stdout: string }> {
  const child = spawn("bash", ["run.sh"], { cwd: workDir, env: anchorEnv(s), stdio: ["ignore", "pipe", "pipe"] });
  // Should this process die first, SIGTERM lets run.sh's own trap stop the servers it started.
  const stopChild = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  };
  process.on("exit", stopChild);
  let stdout = "";
  let log = "";
  const keep = (chunk: Buffer): void => {
    if (log.length < maxLogChars) log += chunk.toString("utf8");
  };
  child.stdout.on("data", (chunk: Buffer) => {
    if (stdout.length < maxLogChars) stdout += chunk.toString("utf8");
    keep(chunk);
  });
  child.stderr.on("data", (chunk: Buffer) => {
    keep(chunk);
    // The anchor's progress lines ("[time] rep 1 size 100"), passed through so a long run shows life.
    for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) process.stderr.write(`  [nats] ${line}\n`);
  });
  return new Promise((resolve, reject) => {
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      process.stderr.write(`  [nats] over ${s.timeoutMs} ms: stopping it\n`);
      child.kill("SIGTERM");
      killTimer = setTimeout(() => child.kill("SIGKILL"), stopGraceMs);
    }, s.timeoutMs);
    child.once("error", reject);
    child.once("exit", (code) => {
      process.off("exit", stopChild);
      clearTimeout(timer);
      clearTimeout(killTimer);
      writeFileSync(logPath, log);
      resolve({ exitCode: code, stdout });
    });
  });
}

/** run.sh ends with "raw results: <file>"; if it died first, take the newest results folder. */
function resultsFileOf(workDir: string, stdout: string): string {
  const m = /raw results: (\S+)/.exec(stdout);
  if (m) return m[1];
  const root = join(workDir, "results");
  if (!existsSync(root)) throw new Error("the NATS anchor wrote no results");
  const newest = readdirSync(root)
    .map((name) => join(root, name))
    .filter((p) => statSync(p).isDirectory())
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (!newest) throw new Error("the NATS anchor wrote no results");
  return join(newest, "results.jsonl");
}

interface AnchorLine {
  kind: string;
  mode?: string;
  how?: string;
  window?: number;
  size: number;
  count: number;
  msgs_per_s: number;
  MB_per_s: number;
  p50_ms?: number;
  p99_ms?: number;
  errors?: number;
  out_of_order_or_bad?: number;
  secs: number;
  server_cpu_s: number;
  client_cpu_s: number;
  other_cpu_s: number;
}

function isAnchorLine(v: unknown): v is AnchorLine {
  if (typeof v !== "object" || v === null) return false;
  const o = v as { [k: string]: unknown };
  return (o.kind === "pub" || o.kind === "consume") && typeof o.size === "number" && typeof o.msgs_per_s === "number";
}

/** Medians per (mode, size, window) over the anchor's repetitions. */
export function summarizeAnchorLines(text: string): NatsFigure[] {
  const groups = new Map<string, AnchorLine[]>();
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const parsed: unknown = JSON.parse(line);
    if (!isAnchorLine(parsed)) continue;
    const mode = parsed.kind === "pub" ? parsed.mode : parsed.how;
    const key = `${mode}|${parsed.size}|${parsed.kind === "pub" && mode !== "sync" ? parsed.window : ""}`;
    groups.set(key, [...(groups.get(key) ?? []), parsed]);
  }
  return [...groups.values()].map((lines) => {
    const first = lines[0];
    const mode = (first.kind === "pub" ? first.mode : first.how) as NatsFigure["mode"];
    return {
      mode,
      sizeBytes: first.size,
      window: first.kind === "pub" && mode !== "sync" ? first.window : undefined,
      runs: lines.length,
      msgsPerSec: spread(lines.map((l) => l.msgs_per_s)),
      mbPerSec: median(lines.map((l) => l.MB_per_s)),
      p50Ms: median(lines.map((l) => l.p50_ms ?? NaN)),
      p99Ms: median(lines.map((l) => l.p99_ms ?? NaN)),
      errors: lines.reduce((sum, l) => sum + (l.errors ?? 0) + (l.out_of_order_or_bad ?? 0), 0),
      serverCpuUsPerMsg: median(lines.map((l) => (l.server_cpu_s / l.count) * 1e6)),
      clientCpuUsPerMsg: median(lines.map((l) => (l.client_cpu_s / l.count) * 1e6)),
      otherCores: median(lines.map((l) => Math.max(0, l.other_cpu_s) / l.secs)),
    };
  });
}

/** Runs the anchor in a scratch copy; its console output goes to a log file beside its results. */
export async function runNatsAnchor(settings: NatsSettings, anchorDir: string, stamp: string): Promise<NatsResult> {
  const workDir = join(tmpdir(), "raftline-nats-anchor");
  prepareWorkDir(anchorDir, workDir);
  const logPath = join(workDir, `run-${stamp}.log`);
  const { exitCode, stdout } = await runScript(workDir, settings, logPath);
  const resultsFile = resultsFileOf(workDir, stdout);
  if (!existsSync(resultsFile)) throw new Error(`the NATS anchor exited ${exitCode} without ${resultsFile}; see ${logPath}`);
  const envFile = join(dirname(resultsFile), "env.txt");
  return {
    settings,
    exitCode,
    logFile: logPath,
    resultsFile,
    env: existsSync(envFile) ? readFileSync(envFile, "utf8") : "",
    figures: summarizeAnchorLines(readFileSync(resultsFile, "utf8")),
  };
}
