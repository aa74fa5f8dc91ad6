// The replica loop's storage writes, one at a time and in the order they were handed over, while the loop
// goes on stepping, applying and sending (the idea of etcd's asynchronous storage writes). What is handed
// over while a write is under way joins the next write, so one fsync covers every Ready that piled up
// meanwhile (group commit). Ordered writes are what keep the stored log a prefix of the log in memory and
// the stored hard state from ever moving back.
import type { WriteBatch } from "./replica-ports";

interface NextWrite {
  batch: WriteBatch;
  sync: boolean;
  landed: (() => void)[];
  /** Entry bytes it carries, as the submitter counted them. */
  bytes: number;
}

export class WritePipeline {
  private next: NextWrite | undefined;
  private writing = false;
  private writingBytes = 0;
  private drainWaiters: (() => void)[] = [];

  constructor(
    private readonly newBatch: () => WriteBatch,
    /** A write failed or a landing callback threw: the loop cannot go on. */
    private readonly failed: (err: unknown) => void,
    /** After each write's landing callbacks, before the next write starts: storage holds exactly what it carried. */
    private readonly written: () => void = () => undefined,
  ) {}

  /** The batch the next write carries; add to it, then call submit() before anything is awaited. */
  batch(): WriteBatch {
    if (this.next === undefined) this.next = { batch: this.newBatch(), sync: false, landed: [], bytes: 0 };
    return this.next.batch;
  }

  /**
   * What was added to batch() goes out with the next write (fsynced if any part asked); `landed` runs once
   * it has. `bytes` counts toward unwrittenBytes until then.
   */
  submit(sync: boolean, bytes: number, landed: () => void): void {
    const next = this.next;
    if (next === undefined) throw new Error("write pipeline: submit without a batch");
    next.sync = next.sync || sync;
    next.bytes += bytes;
    next.landed.push(landed);
    if (!this.writing) this.startNext();
  }

  /** Bytes submitted and not yet written: the write under way and the next. */
  get unwrittenBytes(): number {
    return this.writingBytes + (this.next?.bytes ?? 0);
  }

  /** Nothing is being written or waits to be. */
  get idle(): boolean {
    return !this.writing && this.next === undefined;
  }

  /** Resolves once everything submitted so far has landed. */
  drained(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private startNext(): void {
    const write = this.next;
    this.next = undefined;
    if (write === undefined) {
      this.writing = false;
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const resolve of waiters) resolve();
      return;
    }
    this.writing = true;
    this.writingBytes = write.bytes;
    write.batch
      .write({ sync: write.sync })
      .then(() => {
        this.writingBytes = 0;
        for (const landed of write.landed) landed();
        this.written();
        this.startNext();
      })
      .catch((err: unknown) => this.failed(err));
  }
}
