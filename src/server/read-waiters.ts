// Linearizable read barriers: each waits for its ReadIndex answer, then for the local apply to reach it.
import { ReplicaError } from "./replica-errors";

interface Waiter {
  deadlineMs: number;
  /** The read index once raft answered; -1 before. */
  index: number;
  resolve(): void;
  reject(err: ReplicaError): void;
}

export class ReadWaiters {
  private seq = 0;
  private queued: string[] = [];
  private readonly waiters = new Map<string, Waiter>();

  /** `prefix` makes this node's contexts distinct from every other node's. */
  constructor(private readonly prefix: string) {}

  /** Reads waiting, queued or sent. */
  get size(): number {
    return this.waiters.size;
  }

  add(deadlineMs: number): Promise<void> {
    const ctx = `${this.prefix}.${++this.seq}`;
    return new Promise((resolve, reject) => {
      this.waiters.set(ctx, { deadlineMs, index: -1, resolve, reject });
      this.queued.push(ctx);
    });
  }

  takeQueued(): string[] {
    const q = this.queued;
    this.queued = [];
    return q;
  }

  ready(ctx: string, index: number): void {
    const w = this.waiters.get(ctx);
    if (w) w.index = index;
  }

  appliedThrough(applied: number): void {
    for (const [ctx, w] of this.waiters) {
      if (w.index >= 0 && w.index <= applied) {
        this.waiters.delete(ctx);
        w.resolve();
      }
    }
  }

  /**
   * A new leader is known: reads still waiting for their ReadIndex answer may have been sent to a leader
   * that is gone, and would wait out their deadline. They are sent again, to the new leader.
   */
  resendUnanswered(): void {
    const queued = new Set(this.queued);
    for (const [ctx, w] of this.waiters) if (w.index < 0 && !queued.has(ctx)) this.queued.push(ctx);
  }

  fail(ctx: string, err: ReplicaError): void {
    const w = this.waiters.get(ctx);
    if (!w) return;
    this.waiters.delete(ctx);
    w.reject(err);
  }

  expire(nowMs: number, leader: number): void {
    for (const [ctx, w] of this.waiters) {
      if (w.deadlineMs <= nowMs) this.fail(ctx, new ReplicaError("TIMEOUT", "no quorum confirmed the read before the deadline", leader, true));
    }
  }

  failAll(err: ReplicaError): void {
    for (const ctx of [...this.waiters.keys()]) this.fail(ctx, err);
    this.queued = [];
  }
}
