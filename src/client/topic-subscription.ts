// Every partition of one topic, merged, without a group: one Subscription per partition, their records
// interleaved as they arrive (each partition stays in order). Positions are the caller's to keep.
import type { Admin } from "./admin";
import type { CallRunner } from "./call-runner";
import type { ConsumedRecord } from "./records";
import { StartFrom, Subscription } from "./subscription";

/** Records buffered across partitions before the slowest subscription waits. */
const maxBufferedRecords = 10_000;

export class TopicSubscription implements AsyncIterable<ConsumedRecord> {
  private subscriptions: Subscription[] = [];
  private closed = false;

  constructor(
    private readonly runner: CallRunner,
    private readonly admin: Admin,
    private readonly options: { topic: string; from: "earliest" | "latest" },
    private readonly preferLeader: boolean,
  ) {}

  close(): void {
    this.closed = true;
    for (const s of this.subscriptions) s.close();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ConsumedRecord, void, undefined> {
    const { partitions } = await this.admin.describeTopic(this.options.topic);
    const from: StartFrom = this.options.from;
    this.subscriptions = partitions.map((p) => new Subscription(this.runner, { topic: this.options.topic, partition: p.partition, from }, this.preferLeader));
    const queue: ConsumedRecord[] = [];
    let failure: unknown;
    let wake: (() => void) | undefined;
    let rooms: (() => void)[] = [];
    const freeRoom = (): void => {
      const waiting = rooms;
      rooms = [];
      for (const r of waiting) r();
    };
    const pumps = this.subscriptions.map(async (s) => {
      try {
        for await (const record of s) {
          queue.push(record);
          wake?.();
          while (queue.length >= maxBufferedRecords && !this.closed) await new Promise<void>((resolve) => rooms.push(resolve));
        }
      } catch (err) {
        failure ??= err;
        wake?.();
      }
    });
    try {
      while (!this.closed) {
        if (failure !== undefined) throw failure;
        const record = queue.shift();
        if (record) {
          freeRoom();
          yield record;
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      this.close();
      freeRoom();
      await Promise.allSettled(pumps);
    }
  }
}
