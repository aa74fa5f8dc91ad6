// A local three-node cluster for the benchmark: real `raftline serve` processes on 127.0.0.1 ephemeral
// ports with temporary data directories. Every process is stopped by the pid this module started, and
// the directories are removed, also when the benchmark fails or is interrupted.
import type * as grpc from "@grpc/grpc-js";
import { rmSync } from "node:fs";
import { resolve } from "node:path";
import { ClusterNode, killNodesSync, layOutLocalCluster } from "../test/support/cluster-node";
import { waitFor } from "../test/support/wait";
import { NodeStubs, stubsFor, unaryCall } from "./broker-stubs";

/** The CLI compiled beside this file: <out>/bench → <out>/src/cli/main.js. */
export const cliPath = resolve(__dirname, "..", "src", "cli", "main.js");

export interface BenchClusterOptions {
  nodes: number;
  /** Node flags placed before the CLI script, e.g. --cpu-prof. */
  nodeFlags: string[];
  /** Appended to every node's `serve` flags. */
  serveFlags: string[];
  startDeadlineMs: number;
  /** How the bench's stubs connect (a secure cluster: TLS and a token); default plaintext. */
  credentials?: grpc.ChannelCredentials;
}

export const defaultClusterOptions: BenchClusterOptions = { nodes: 3, nodeFlags: [], serveFlags: [], startDeadlineMs: 30000 };

/** One DescribeCluster probe while waiting for a leader. */
const probeTimeoutMs = 1000;
/** A killed process is reaped within this long. */
const killReapMs = 5000;

const liveClusters = new Set<BenchCluster>();
process.on("exit", () => {
  for (const cluster of liveClusters) cluster.cleanupSync();
});

export class BenchCluster {
  private readonly stubs = new Map<number, NodeStubs>();

  private constructor(
    readonly root: string,
    readonly nodes: readonly ClusterNode[],
    private readonly credentials?: grpc.ChannelCredentials,
  ) {}

  static async start(options: Partial<BenchClusterOptions> = {}): Promise<BenchCluster> {
    const opts = { ...defaultClusterOptions, ...options };
    const { root, nodes } = await layOutLocalCluster({
      count: opts.nodes,
      cliPath,
      dirPrefix: "raftline-bench-",
      nodeArgs: opts.nodeFlags,
      serveArgs: opts.serveFlags,
    });
    const cluster = new BenchCluster(root, nodes, opts.credentials);
    liveClusters.add(cluster);
    try {
      for (const node of nodes) node.start();
      await Promise.all(nodes.map((n) => n.waitServing(opts.startDeadlineMs)));
    } catch (err) {
      await cluster.cleanup();
      throw err;
    }
    return cluster;
  }

  node(id: number): ClusterNode {
    const node = this.nodes.find((n) => n.id === id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  /** Stubs for one node, created once and closed by cleanup(). */
  stubsOf(id: number): NodeStubs {
    let stubs = this.stubs.get(id);
    if (!stubs) {
      stubs = stubsFor(this.node(id).clientAddress, this.credentials);
      this.stubs.set(id, stubs);
    }
    return stubs;
  }

  /** Pids of the running server processes. */
  pids(): number[] {
    return this.nodes.flatMap((n) => (n.pid === undefined ? [] : [n.pid]));
  }

  /** Pids of the running servers, `leaderId` first, so that per-node columns read "leader, followers". */
  pidsLeaderFirst(leaderId: number): number[] {
    return [leaderId, ...this.nodes.map((n) => n.id).filter((id) => id !== leaderId)].flatMap((id) => this.node(id).pid ?? []);
  }

  /** Leader elections the nodes announced since they started (a bench counts leader changes with it). */
  leaderEvents(): number {
    return this.nodes.reduce((sum, n) => sum + n.leaderEvents, 0);
  }

  /** Resolves with the leader's id once every node names the same one. */
  async waitForLeader(deadlineMs: number): Promise<number> {
    return waitFor(
      async () => {
        const views = await Promise.all(
          this.nodes.map((n) =>
            unaryCall<{ leaderId: number }>(probeTimeoutMs, (o, cb) => this.stubsOf(n.id).admin.DescribeCluster({}, o, cb)).then(
              (r) => r.leaderId,
              () => 0,
            ),
          ),
        );
        const first = views[0];
        return first !== 0 && views.every((v) => v === first) ? first : 0;
      },
      deadlineMs,
      "the nodes to agree on a leader",
    );
  }

  /** SIGTERM to every node and wait for a clean exit (a --cpu-prof profile is written only then). */
  async stopGracefully(deadlineMs: number): Promise<void> {
    for (const node of this.nodes) node.signal("SIGTERM");
    await Promise.all(this.nodes.map((n) => n.waitExit(deadlineMs)));
  }

  /** Kills every process this cluster started (by pid) and removes its folder. */
  async cleanup(options: { keepDirs?: boolean } = {}): Promise<void> {
    for (const stubs of this.stubs.values()) stubs.close();
    this.stubs.clear();
    for (const node of this.nodes) node.signal("SIGKILL");
    await Promise.all(this.nodes.map((n) => n.waitExit(killReapMs).catch(() => undefined)));
    if (!options.keepDirs) rmSync(this.root, { recursive: true, force: true });
    liveClusters.delete(this);
  }

  /** The exit-time fallback, where nothing can be awaited. */
  cleanupSync(): void {
    killNodesSync(this.nodes);
    rmSync(this.root, { recursive: true, force: true });
  }

  logTails(): string {
    return this.nodes.map((n) => n.logTail()).join("\n");
  }
}
