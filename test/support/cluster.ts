// A real multi-process Raftline cluster for integration and chaos tests: `raftline serve` children on
// 127.0.0.1 ephemeral ports, each with its own temporary data directory and log file. Every process is
// one this harness started and is stopped by its pid; an after() hook and a process 'exit' handler make
// sure none outlives the test, even a failing one. RAFTLINE_TEST_KEEP_DIRS=1 keeps data and logs.
import { after } from "node:test";
import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { serverNodeFlags } from "../../src/cli/server-node-flags";
import { RaftlineClient, RaftlineClientOptions } from "../../src/client";
import { ClusterNode, killNodesSync, layOutLocalCluster } from "./cluster-node";
import { freePorts } from "./ports";
import { waitFor } from "./wait";

export interface ClusterOptions {
  /** Number of nodes; 3 unless given. */
  nodes?: number;
  tickMs?: number;
  electionTicks?: number;
  /** Added to the parent's environment for every node. */
  env?: NodeJS.ProcessEnv;
  /** Appended to every node's `serve` flags. */
  extraArgs?: string[];
  /** How long every node gets to bind its ports. */
  startDeadlineMs?: number;
  /**
   * Register a node:test `after` hook that cleans up (default true). Pass false when starting from a
   * `before` hook — an `after` registered there runs as soon as that hook ends — and call cleanup()
   * from your own `after`.
   */
  cleanupAfter?: boolean;
  /** What every SDK client of the harness (its own probes included) connects with: TLS, a token. */
  clientDefaults?: Partial<RaftlineClientOptions>;
}

export const defaultStartDeadlineMs = 20000;
/** SIGTERM's grace before SIGKILL in stop(). */
export const stopGraceMs = 15000;
/** A killed process is reaped within this long. */
const killReapMs = 5000;
/**
 * One DescribeCluster probe of waitForLeader; a paused node must not hold the poll up for long. Above the
 * server's own wait for each peer's view (cluster-view.ts, 500 ms): a leader with one slow peer still
 * answers in time.
 */
const probeTimeoutMs = 1500;

/** The CLI as compiled next to this file: <out>/test/support → <out>/src/cli/main.js. */
export const cliPath = resolve(__dirname, "..", "..", "src", "cli", "main.js");

const liveClusters = new Set<Cluster>();
process.on("exit", () => {
  for (const cluster of liveClusters) cluster.cleanupSync();
});

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const timing = [
    ...(options.tickMs !== undefined ? ["--tick-ms", String(options.tickMs)] : []),
    ...(options.electionTicks !== undefined ? ["--election-ticks", String(options.electionTicks)] : []),
  ];
  const { root, nodes } = await layOutLocalCluster({
    count: options.nodes ?? 3,
    cliPath,
    dirPrefix: "raftline-cluster-",
    serveArgs: [...timing, ...(options.extraArgs ?? [])],
    env: options.env,
  });
  const cluster = new Cluster(root, nodes, { serveArgs: [...timing, ...(options.extraArgs ?? [])], env: options.env }, options.clientDefaults);
  liveClusters.add(cluster);
  if (options.cleanupAfter !== false) after(() => cluster.cleanup());
  for (const node of nodes) node.start();
  await Promise.all(nodes.map((n) => n.waitServing(options.startDeadlineMs ?? defaultStartDeadlineMs)));
  return cluster;
}

export class Cluster {
  private readonly clients: RaftlineClient[] = [];
  private readonly probes = new Map<number, RaftlineClient>();
  private cleanedUp = false;

  constructor(
    /** Temporary folder holding every node's data directory and log. */
    readonly root: string,
    /** The founding nodes, then any started later with startJoiner. */
    readonly nodes: ClusterNode[],
    /** What a node started later runs with, like the founders. */
    private readonly joinerSetup: { serveArgs: string[]; env?: NodeJS.ProcessEnv } = { serveArgs: [] },
    private readonly clientDefaults: Partial<RaftlineClientOptions> = {},
  ) {}

  /**
   * Lays out and starts a node new to the cluster on its own ports and empty data dir, with
   * `serve --join` through `via` (a member's client address). It serves, but takes part only once added.
   */
  async startJoiner(id: number, via: string, deadlineMs = defaultStartDeadlineMs): Promise<ClusterNode> {
    if (this.nodes.some((n) => n.id === id)) throw new Error(`node ${id} exists already`);
    const [clientPort, peerPort] = await freePorts(2);
    const clientAddress = `127.0.0.1:${clientPort}`;
    const peerAddress = `127.0.0.1:${peerPort}`;
    const dataDir = join(this.root, `node-${id}`);
    mkdirSync(dataDir);
    const node = new ClusterNode({
      id,
      clientAddress,
      peerAddress,
      dataDir,
      logPath: join(this.root, `node-${id}.log`),
      args: this.joinerArgs({ id, clientAddress, peerAddress, dataDir }, via),
      env: { ...process.env, ...this.joinerSetup.env },
    });
    this.nodes.push(node);
    node.start();
    await node.waitServing(deadlineMs);
    return node;
  }

  /**
   * Stops the node, empties its data directory and starts it again as a joiner (`serve --join via`) under
   * the same id, addresses and log file: a removed member coming back as a new one.
   */
  async rejoin(id: number, via: string, deadlineMs = defaultStartDeadlineMs): Promise<ClusterNode> {
    const old = this.node(id);
    await this.stop(id);
    rmSync(old.dataDir, { recursive: true, force: true });
    mkdirSync(old.dataDir);
    return this.replaceNode(old, old.spec, via, deadlineMs);
  }

  /** Like rejoin, on new ports: the same id moved to another machine. */
  async rejoinElsewhere(id: number, via: string, deadlineMs = defaultStartDeadlineMs): Promise<ClusterNode> {
    const old = this.node(id);
    await this.stop(id);
    rmSync(old.dataDir, { recursive: true, force: true });
    mkdirSync(old.dataDir);
    const [clientPort, peerPort] = await freePorts(2);
    return this.replaceNode(old, { ...old.spec, clientAddress: `127.0.0.1:${clientPort}`, peerAddress: `127.0.0.1:${peerPort}` }, via, deadlineMs);
  }

  private async replaceNode(old: ClusterNode, spec: ClusterNode["spec"], via: string, deadlineMs: number): Promise<ClusterNode> {
    const node = new ClusterNode({ ...spec, args: this.joinerArgs(spec, via) });
    this.nodes[this.nodes.indexOf(old)] = node;
    node.start();
    await node.waitServing(deadlineMs);
    return node;
  }

  private joinerArgs(m: { id: number; clientAddress: string; peerAddress: string; dataDir: string }, via: string): string[] {
    const self = `${m.id}=${m.clientAddress},${m.peerAddress}`;
    return [...serverNodeFlags, cliPath, "serve", "--id", String(m.id), "--data-dir", m.dataDir, "--member", self, "--join", via, ...this.joinerSetup.serveArgs];
  }

  node(id: number): ClusterNode {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id} in this cluster`);
    return n;
  }

  /** Client addresses of every node, for a client's bootstrap list. */
  get brokers(): string[] {
    return this.nodes.map((n) => n.clientAddress);
  }

  /** Nodes running and not paused. */
  liveIds(): number[] {
    return this.nodes.filter((n) => n.running && !n.paused).map((n) => n.id);
  }

  /** An SDK client for the whole cluster, closed by cleanup(). */
  client(options: Partial<RaftlineClientOptions> = {}): RaftlineClient {
    const client = new RaftlineClient({ brokers: this.brokers, clientId: "test", ...this.clientDefaults, ...options });
    this.clients.push(client);
    return client;
  }

  /**
   * Polls DescribeCluster on the live nodes (or on `among`) until each of them names the same leader, and
   * that leader is one of them. Resolves with its id.
   */
  async waitForLeader(deadlineMs: number, options: { among?: number[] } = {}): Promise<number> {
    let views = "";
    try {
      return await waitFor(
        async () => {
          const ids = options.among ?? this.liveIds();
          const leaders = await Promise.all(ids.map((id) => this.leaderSeenBy(id)));
          views = ids.map((id, i) => `node ${id} → ${leaders[i] ?? "unreachable"}`).join(", ");
          const first = leaders[0];
          const agreed = first !== undefined && first !== 0 && ids.includes(first) && leaders.every((l) => l === first);
          return agreed ? first : undefined;
        },
        deadlineMs,
        "the live nodes to agree on a leader",
      );
    } catch (err) {
      throw new Error(`${(err as Error).message} (last views: ${views || "none"})\n${this.logTails()}`);
    }
  }

  /** Sends `signal` and waits until the process has exited. */
  async kill(id: number, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const node = this.node(id);
    if (!node.running) return;
    node.signal(signal);
    if (node.paused && signal !== "SIGKILL") node.signal("SIGCONT");
    await node.waitExit(killReapMs);
  }

  /** Graceful stop: SIGTERM, then SIGKILL if it has not exited within stopGraceMs. */
  async stop(id: number): Promise<void> {
    const node = this.node(id);
    if (!node.running) return;
    if (node.paused) node.signal("SIGCONT");
    node.signal("SIGTERM");
    try {
      await node.waitExit(stopGraceMs);
    } catch {
      node.signal("SIGKILL");
      await node.waitExit(killReapMs);
    }
  }

  pause(id: number): void {
    this.node(id).signal("SIGSTOP");
  }

  resume(id: number): void {
    this.node(id).signal("SIGCONT");
  }

  /** Starts the node again on the same ports, with its data or (wipe) an empty data directory. */
  async restart(id: number, options: { wipe?: boolean; deadlineMs?: number } = {}): Promise<void> {
    const node = this.node(id);
    await this.stop(id);
    if (options.wipe) {
      rmSync(node.dataDir, { recursive: true, force: true });
      mkdirSync(node.dataDir);
    }
    node.start();
    await node.waitServing(options.deadlineMs ?? defaultStartDeadlineMs);
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.stop(n.id)));
  }

  /** Kills every process this cluster started (by pid) and removes its temporary folder. */
  async cleanup(): Promise<void> {
    if (this.cleanedUp) return;
    this.cleanedUp = true;
    await Promise.all([...this.clients, ...this.probes.values()].map((c) => c.close({ flush: false }).catch(() => undefined)));
    await Promise.all(this.nodes.map((n) => this.kill(n.id, "SIGKILL").catch(() => undefined)));
    this.removeRoot();
    liveClusters.delete(this);
  }

  /** The exit-time fallback: no waiting is possible there. */
  cleanupSync(): void {
    killNodesSync(this.nodes);
    this.removeRoot();
  }

  logTails(): string {
    return this.nodes.map((n) => n.logTail()).join("\n");
  }

  private removeRoot(): void {
    if (process.env.RAFTLINE_TEST_KEEP_DIRS === "1") return;
    rmSync(this.root, { recursive: true, force: true });
  }

  private async leaderSeenBy(id: number): Promise<number | undefined> {
    let probe = this.probes.get(id);
    if (!probe) {
      probe = new RaftlineClient({
        ...this.clientDefaults,
        brokers: [this.node(id).clientAddress],
        clientId: `probe-${id}`,
        retry: { maxAttempts: 1 },
        requestTimeoutMs: probeTimeoutMs,
        // A probe asks its own node; it has no use for the member list.
        memberRefreshMs: 0,
      });
      this.probes.set(id, probe);
    }
    try {
      return (await probe.admin().describeCluster()).leaderId;
    } catch {
      return undefined;
    }
  }
}
