// The replica loop's storage writes, one at a time and in the order they were handed over, while the loop
// goes on stepping, applying and sending (the idea of etcd's asynchronous storage writes). What is handed
// over while a write is under way joins the next write, so one fsync covers every Ready that piled up
// meanwhile (group commit). Ordered writes are what keep the stored log a prefix of the log in memory and
// the stored hard state from ever moving back. What waits for the next write is bounded in bytes by the
// caller (waitForRoom): otherwise a follower would keep taking appends faster than its disk writes them.
import type { WriteBatch } from "./replica-ports";

interface NextWrite {
  batch: WriteBatch;
  sync: boolean;
  landed: (() => void)[];
  bytes: number;
}

export class WritePipeline {
  private next: NextWrite | undefined;
  private writing = false;
  private drainWaiters: (() => void)[] = [];
  private roomWaiters: (() => void)[] = [];

  constructor(
    private readonly newBatch: () => WriteBatch,
    /** A write failed or a landing callback threw: the loop cannot go on. */
    private readonly failed: (err: unknown) => void,
  ) {}

  /** The batch the next write carries; add to it, then call submit() before anything is awaited. */
  batch(): WriteBatch {
    if (this.next === undefined) this.next = { batch: this.newBatch(), sync: false, landed: [], bytes: 0 };
    return this.next.batch;
  }

  /**
   * What was added to batch() goes out with the next write (fsynced if any part asked); `landed` runs once
   * it has. `bytes`: how much was added, for waitForRoom.
   */
  submit(sync: boolean, landed: () => void, bytes = 0): void {
    const next = this.next;
    if (next === undefined) throw new Error("write pipeline: submit without a batch");
    next.sync = next.sync || sync;
    next.landed.push(landed);
    next.bytes += bytes;
    if (!this.writing) this.startNext();
  }

  /** Nothing is being written or waits to be. */
  get idle(): boolean {
    return !this.writing && this.next === undefined;
  }

  /** Resolves once less than `maxBytes` waits for the next write (at once if so already). */
  waitForRoom(maxBytes: number): Promise<void> {
    if ((this.next?.bytes ?? 0) < maxBytes) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Resolves once everything submitted so far has landed. */
  drained(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private startNext(): void {
    const write = this.next;
    this.next = undefined;
    const roomWaiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const resolve of roomWaiters) resolve();
    if (write === undefined) {
      this.writing = false;
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const resolve of waiters) resolve();
      return;
    }
    this.writing = true;
    write.batch
      .write({ sync: write.sync })
      .then(() => {
        for (const landed of write.landed) landed();
        this.startNext();
      })
      .catch((err: unknown) => this.failed(err));
  }
}
