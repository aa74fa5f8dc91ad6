// ReadIndex (Raft thesis §6.4): the leader notes its commit index for a read, then confirms it is still
// the leader with a round of heartbeats carrying the read's context. Once a majority answered, every read
// queued up to that context may be served at its noted index.
import { NodeId } from "./types";

/** Bound on reads waiting for their heartbeat round (and, separately, on reads deferred by a new leader). */
export const maxPendingReadRequests = 65_536;

export interface ReadRequest {
  /** The commit index when the read arrived. */
  index: number;
  context: string;
  /** The node that asked (the leader itself for local reads). */
  from: NodeId;
  acks: Set<NodeId>;
}

export class ReadOnly {
  private readonly pending = new Map<string, ReadRequest>();
  /** Contexts in arrival order; `head` skips those already served. */
  private queue: string[] = [];
  private head = 0;

  get size(): number {
    return this.pending.size;
  }

  has(context: string): boolean {
    return this.pending.has(context);
  }

  add(index: number, context: string, from: NodeId): void {
    if (this.pending.has(context)) return;
    this.pending.set(context, { index, context, from, acks: new Set<NodeId>() });
    this.queue.push(context);
  }

  /** Records that `id` answered the heartbeat for `context`; returns that read's acks so far. */
  recvAck(id: NodeId, context: string): ReadonlySet<NodeId> | undefined {
    const req = this.pending.get(context);
    if (req === undefined) return undefined;
    req.acks.add(id);
    return req.acks;
  }

  /**
   * A majority confirmed leadership as of the heartbeat for `context`: that read and every earlier one
   * can be served. Returns them in arrival order.
   */
  advance(context: string): ReadRequest[] {
    if (!this.pending.has(context)) return [];
    const served: ReadRequest[] = [];
    while (this.head < this.queue.length) {
      const ctx = this.queue[this.head++];
      const req = this.pending.get(ctx);
      if (req === undefined) continue;
      this.pending.delete(ctx);
      served.push(req);
      if (ctx === context) break;
    }
    if (this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return served;
  }

  /** The newest waiting read: every heartbeat carries it, so a lost heartbeat round is retried. */
  lastPendingContext(): string | undefined {
    for (let k = this.queue.length - 1; k >= this.head; k--) {
      if (this.pending.has(this.queue[k])) return this.queue[k];
    }
    return undefined;
  }
}
