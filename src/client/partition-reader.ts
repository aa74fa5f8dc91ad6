// Reads one assigned partition with long-poll fetches, handing records to the consumer's bounded
// buffer; it waits while the buffer is full or the partition is paused. A seek or pause bumps its epoch,
// so records fetched before it are dropped instead of delivered.
import type { Consumer } from "./consumer";
import type { ConsumedRecord } from "./records";

/** Longest wait of one fetch: bounds how late a stop or seek is noticed. */
export const fetchWaitMs = 500;
/** Pause after a failed fetch the retrier gave up on. */
const errorBackoffMs = 250;

export interface ReaderSink {
  /** Resolves when there is room; false when the reader should stop. */
  room(): Promise<boolean>;
  deliver(reader: PartitionReader, epoch: number, records: ConsumedRecord[]): void;
  error(err: unknown): void;
}

export class PartitionReader {
  epoch = 0;
  paused = false;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
    /** Offset of the next record to fetch. */
    public position: number,
    private readonly consumer: Consumer,
    private readonly sink: ReaderSink,
    private readonly maxBytes: number,
  ) {}

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.resume();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  seek(offset: number): void {
    this.position = offset;
    this.epoch++;
  }

  pause(): void {
    this.paused = true;
    this.epoch++;
  }

  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.paused) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      if (!(await this.sink.room())) return;
      const epoch = this.epoch;
      const offset = this.position;
      try {
        const res = await this.consumer.fetch({ topic: this.topic, partition: this.partition, offset, maxWaitMs: fetchWaitMs, maxBytes: this.maxBytes });
        if (this.stopped || epoch !== this.epoch || res.records.length === 0) continue;
        this.position = res.nextOffset;
        this.sink.deliver(this, epoch, res.records);
      } catch (err) {
        if (this.stopped) return;
        this.sink.error(err);
        await new Promise((resolve) => setTimeout(resolve, errorBackoffMs));
      }
    }
  }
}
