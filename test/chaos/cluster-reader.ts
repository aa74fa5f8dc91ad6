// Every node's view of the topics the run wrote: high watermarks, to tell when the nodes have caught up
// with one another, and whole partitions, for the checker once they have converged.
import type { Cluster } from "../support/cluster";
import { waitFor } from "../support/wait";
import type { NodeLog } from "./model";
import { NodeReader } from "./node-reader";
import type { TopicSpec } from "./workload";

/** High watermark per "topic/partition". */
export type Watermarks = Map<string, number>;

/** Between two rounds of watermark polls. */
const pollIntervalMs = 100;

export class ClusterReader {
  private readonly readers: NodeReader[];

  constructor(
    cluster: Cluster,
    private readonly topics: readonly TopicSpec[],
  ) {
    this.readers = cluster.nodes.map((n) => new NodeReader(n.id, n.clientAddress));
  }

  /** One node's watermarks, or undefined if it did not answer. */
  async watermarks(node: number): Promise<Watermarks | undefined> {
    const reader = this.reader(node);
    try {
      const marks: Watermarks = new Map();
      for (const t of this.topics) {
        for (let p = 0; p < t.partitions; p++) marks.set(`${t.name}/${p}`, await reader.highWatermark(t.name, p));
      }
      return marks;
    } catch {
      return undefined;
    }
  }

  /** Waits until every node holds at least `target` in every partition. */
  async waitCaughtUp(target: Watermarks, deadlineMs: number): Promise<void> {
    await waitFor(
      async () => {
        const all = await Promise.all(this.readers.map((r) => this.watermarks(r.node)));
        return all.every((marks) => marks !== undefined && [...target].every(([k, hw]) => (marks.get(k) ?? -1) >= hw));
      },
      deadlineMs,
      "every node to catch up",
      pollIntervalMs,
    );
  }

  /**
   * Waits until every node reports the same watermarks (load must have stopped). Returns each node's
   * watermarks as last seen, converged or not, so that the logs can be read and compared either way.
   */
  async waitConverged(deadlineMs: number): Promise<{ converged: boolean; byNode: Map<number, Watermarks> }> {
    let last: (Watermarks | undefined)[] = [];
    const converged = await waitFor(
      async () => {
        last = await Promise.all(this.readers.map((r) => this.watermarks(r.node)));
        const [first, ...others] = last;
        if (first === undefined || others.some((m) => m === undefined)) return false;
        return others.every((m) => [...first].every(([k, hw]) => m?.get(k) === hw));
      },
      deadlineMs,
      "every node to reach the same high watermarks",
      pollIntervalMs,
    ).catch(() => false);
    const byNode = new Map<number, Watermarks>();
    this.readers.forEach((r, i) => byNode.set(r.node, last[i] ?? new Map()));
    return { converged, byNode };
  }

  /** Every node's copy of every partition, up to that node's own watermarks. */
  async readAll(byNode: ReadonlyMap<number, Watermarks>): Promise<NodeLog[]> {
    const logs: NodeLog[] = [];
    for (const reader of this.readers) {
      const marks = byNode.get(reader.node) ?? new Map<string, number>();
      for (const t of this.topics) {
        const partitions = [];
        for (let p = 0; p < t.partitions; p++) {
          const upTo = Math.max(0, marks.get(`${t.name}/${p}`) ?? 0);
          partitions.push(await reader.readPartition(t.name, p, upTo));
        }
        logs.push({ node: reader.node, topic: t.name, partitions });
      }
    }
    return logs;
  }

  close(): void {
    for (const r of this.readers) r.close();
  }

  private reader(node: number): NodeReader {
    const r = this.readers.find((x) => x.node === node);
    if (!r) throw new Error(`no node ${node}`);
    return r;
  }
}
