// One `raftline serve` child process of a test cluster: spawned with an IPC channel for its status
// events, stdout and stderr appended to a log file, its exit observed.
import { ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "./ports";
import { parseNodeEvent } from "../../src/server/node-events";
import { serverNodeFlags } from "../../src/cli/server-node-flags";
import { withDeadline } from "./wait";

export interface NodeSpec {
  id: number;
  clientAddress: string;
  peerAddress: string;
  dataDir: string;
  logPath: string;
  /** Node arguments after the interpreter: the CLI script, "serve" and its flags. */
  args: string[];
  env: NodeJS.ProcessEnv;
}

export interface NodeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Lines of a node's log quoted in failure messages. */
export const logTailLines = 40;

export class ClusterNode {
  private child: ChildProcess | undefined;
  private exit: Promise<NodeExit> | undefined;
  private serving: Promise<void> | undefined;
  private isPaused = false;
  /** Term of the last "leader" event this node sent, 0 if none since it started. */
  leaderTerm = 0;
  /** "leader" events this node sent since the test process first started it (a bench counts leader changes). */
  leaderEvents = 0;
  /** host:port of its HTTP server (metrics, dashboard) as it reported when serving, if it has one. */
  httpAddress: string | undefined;

  constructor(readonly spec: NodeSpec) {}

  get id(): number {
    return this.spec.id;
  }
  get clientAddress(): string {
    return this.spec.clientAddress;
  }
  get peerAddress(): string {
    return this.spec.peerAddress;
  }
  get dataDir(): string {
    return this.spec.dataDir;
  }
  get logPath(): string {
    return this.spec.logPath;
  }
  /** The running process's pid; undefined once it has exited. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }
  get paused(): boolean {
    return this.isPaused;
  }

  start(): void {
    if (this.running) throw new Error(`node ${this.id} is already running (pid ${this.child?.pid})`);
    const logFd = openSync(this.spec.logPath, "a");
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, this.spec.args, { env: this.spec.env, stdio: ["ignore", logFd, logFd, "ipc"] });
    } finally {
      closeSync(logFd);
    }
    // A forgotten cleanup must not keep the test process alive; its 'exit' handler then kills the node.
    child.unref();
    child.channel?.unref();
    this.child = child;
    this.isPaused = false;
    this.leaderTerm = 0;
    this.exit = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    this.serving = new Promise((resolve, reject) => {
      child.on("message", (raw: unknown) => {
        const event = parseNodeEvent(raw);
        if (event?.kind === "serving") {
          this.httpAddress = event.httpAddress;
          resolve();
        }
        else if (event?.kind === "leader") {
          this.leaderTerm = event.term;
          this.leaderEvents++;
        }
      });
      void this.exit?.then((e) => reject(new Error(`node ${this.id} exited (${e.signal ?? e.code}) before serving`)));
    });
    // Settled by waitServing; a node that dies later must not surface as an unhandled rejection.
    this.serving.catch(() => undefined);
  }

  waitServing(deadlineMs: number): Promise<void> {
    if (!this.serving) throw new Error(`node ${this.id} was not started`);
    return withDeadline(this.serving, deadlineMs, `node ${this.id} to serve`).catch((err: Error) => {
      throw new Error(`${err.message}\n${this.logTail()}`);
    });
  }

  /** Sends a signal to the running process (a no-op when it has exited). */
  signal(signal: NodeJS.Signals): void {
    if (!this.running || !this.child?.pid) return;
    process.kill(this.child.pid, signal);
    if (signal === "SIGSTOP") this.isPaused = true;
    if (signal === "SIGCONT") this.isPaused = false;
  }

  async waitExit(deadlineMs: number): Promise<NodeExit | undefined> {
    if (!this.exit) return undefined;
    return withDeadline(this.exit, deadlineMs, `node ${this.id} (pid ${this.child?.pid}) to exit`);
  }

  logTail(lines = logTailLines): string {
    if (!existsSync(this.spec.logPath)) return `(no log at ${this.spec.logPath})`;
    const all = readFileSync(this.spec.logPath, "utf8").trimEnd().split("\n");
    return `--- last ${Math.min(lines, all.length)} lines of ${this.spec.logPath} ---\n${all.slice(-lines).join("\n")}`;
  }
}

/** The exit-time fallback, where nothing can be awaited: SIGKILL each started process by its pid. */
export function killNodesSync(nodes: readonly ClusterNode[]): void {
  for (const node of nodes) {
    const pid = node.pid;
    if (pid === undefined) continue;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

export interface LocalClusterLayout {
  /** Temporary folder holding every node's data directory and log. */
  root: string;
  nodes: ClusterNode[];
}

/**
 * Lays out `count` nodes on 127.0.0.1 ephemeral ports, each with a data dir and a log under a new
 * temporary folder, running `node [nodeArgs] cli serve --id N --data-dir D --member ... [serveArgs]`.
 */
export async function layOutLocalCluster(o: {
  count: number;
  cliPath: string;
  dirPrefix: string;
  nodeArgs?: string[];
  serveArgs?: string[];
  env?: NodeJS.ProcessEnv;
}): Promise<LocalClusterLayout> {
  if (!existsSync(o.cliPath)) throw new Error(`${o.cliPath} is missing: build the project first (npm run build)`);
  const ports = await freePorts(2 * o.count);
  const root = mkdtempSync(join(tmpdir(), o.dirPrefix));
  const members = Array.from({ length: o.count }, (_, i) => ({
    id: i + 1,
    clientAddress: `127.0.0.1:${ports[2 * i]}`,
    peerAddress: `127.0.0.1:${ports[2 * i + 1]}`,
  }));
  const memberFlags = members.flatMap((m) => ["--member", `${m.id}=${m.clientAddress},${m.peerAddress}`]);
  const nodes = members.map((m) => {
    const dataDir = join(root, `node-${m.id}`);
    mkdirSync(dataDir);
    return new ClusterNode({
      ...m,
      dataDir,
      logPath: join(root, `node-${m.id}.log`),
      args: [...serverNodeFlags, ...(o.nodeArgs ?? []), o.cliPath, "serve", "--id", String(m.id), "--data-dir", dataDir, ...memberFlags, ...(o.serveArgs ?? [])],
      env: { ...process.env, ...o.env },
    });
  });
  return { root, nodes };
}
