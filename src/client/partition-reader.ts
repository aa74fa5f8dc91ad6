// Reads one assigned partition through a Subscribe stream (the broker pushes records as they commit),
// handing each response's records to the consumer's bounded buffer; while the buffer is full the stream
// is paused, so transport flow control holds the broker back. A broken stream is reopened from the next
// offset through the retrier. A seek or pause bumps the reader's epoch and reopens (or holds) the stream,
// so records fetched before it are dropped instead of delivered.
import type * as grpc from "@grpc/grpc-js";
import type { SubscribeResponse__Output } from "../generated/raftline/v1/SubscribeResponse";
import type { CallRunner } from "./call-runner";
import { RaftlineError, toRaftlineError } from "./errors";
import { ConsumedRecord, fromWireRecord } from "./records";
import { RetryBudget } from "./retry";
import { subscribeRequest } from "./subscription";

/** Pause before reopening after a failure the retrier does not cover (e.g. OUT_OF_RANGE). */
const errorBackoffMs = 250;

export interface ReaderSink {
  hasRoom(): boolean;
  /** Resolves once there is room again (or the consumer closed). */
  whenRoom(): Promise<void>;
  deliver(reader: PartitionReader, epoch: number, records: ConsumedRecord[]): void;
  error(err: RaftlineError): void;
}

export class PartitionReader {
  epoch = 0;
  paused = false;
  private stopped = false;
  private call: grpc.ClientReadableStream<SubscribeResponse__Output> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
    /** Offset of the next record to read. */
    public position: number,
    private readonly runner: CallRunner,
    private readonly sink: ReaderSink,
    private readonly maxBytes: number,
  ) {}

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.call?.cancel();
    this.wake?.();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  seek(offset: number): void {
    this.position = offset;
    this.epoch++;
    this.call?.cancel();
  }

  pause(): void {
    this.paused = true;
    this.epoch++;
    this.call?.cancel();
  }

  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  private async run(): Promise<void> {
    const budget = new RetryBudget({ ...this.runner.policy, maxAttempts: Number.MAX_SAFE_INTEGER }, this.runner.clock);
    while (!this.stopped) {
      if (this.paused) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      const epoch = this.epoch;
      const address = this.runner.pool.target(true);
      try {
        await this.stream(address, epoch, () => budget.reset());
      } catch (thrown) {
        if (this.stopped || epoch !== this.epoch) continue;
        const err = toRaftlineError(thrown, address);
        this.runner.pool.noteError(err);
        let waitMs = budget.next(err);
        if (waitMs === undefined) {
          this.sink.error(err);
          budget.reset();
          waitMs = errorBackoffMs;
        }
        if (waitMs > 0) await this.runner.clock.sleep(waitMs);
      }
    }
  }

  /** One stream from the current position: resolves when it ends or was cancelled here, rejects on failure. */
  private stream(address: string, epoch: number, progressed: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const options = { topic: this.topic, partition: this.partition, from: this.position, maxBytes: this.maxBytes };
      const call = this.runner.pool.stubs(address).consumer.Subscribe(subscribeRequest(options, this.position));
      this.call = call;
      call.on("data", (response: SubscribeResponse__Output) => {
        progressed();
        if (this.stopped || epoch !== this.epoch || response.records.length === 0) return;
        const records = response.records.map((r) => fromWireRecord(this.topic, this.partition, r));
        this.position = records[records.length - 1].offset + 1;
        this.sink.deliver(this, epoch, records);
        if (!this.sink.hasRoom()) {
          call.pause();
          void this.sink.whenRoom().then(() => call.resume());
        }
      });
      call.on("error", (err) => {
        if (this.stopped || epoch !== this.epoch) resolve();
        else reject(err);
      });
      call.on("end", () => resolve());
    });
  }
}
