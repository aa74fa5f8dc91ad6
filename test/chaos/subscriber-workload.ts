// Subscribers that follow partitions from the earliest offset for the whole run. The SDK resubscribes by
// itself after retriable errors; any other failure (a node that was wiped and does not know the topic
// yet, say) reopens the subscription here from the next offset. At the end, what each one was handed must
// be the beginning of the final log, in order, with nothing skipped.
import { connectionDefaults } from "../support/connection-defaults";
import { setTimeout as delay } from "node:timers/promises";
import { Consumer, RaftlineClient, Subscription } from "../../src/client";
import { withDeadline } from "../support/wait";
import { subscriberPrefixes } from "./checker";
import type { History } from "./history";
import { SubscriberView, Violation, textOf } from "./model";
import type { FinalView, TopicSpec, Workload, WorkloadContext } from "./workload";

export interface SubscriberWorkloadOptions {
  name: string;
  topic: TopicSpec;
  /** "leader" follows the leader; "any" reads from whichever broker comes next. */
  readFrom: "leader" | "any";
}

/** Wait before reopening a subscription that failed for good. */
export const reopenBackoffMs = 200;
/** Reopens per subscriber in one run; far above what a run's faults cause, but a bound. */
export const maxReopens = 10000;
/** Deliveries noted in the history as one line. */
const deliveriesPerNote = 500;
/** How long stop() waits for each subscription to wind down. */
const stopDeadlineMs = 10000;

class Follower {
  readonly view: SubscriberView;
  private subscription: Subscription | undefined;
  private stopped = false;
  private readonly abort = new AbortController();
  private notedUpTo = 0;
  reopens = 0;
  done: Promise<void> = Promise.resolve();

  constructor(
    name: string,
    topic: string,
    partition: number,
    private readonly consumer: Consumer,
    private readonly history: History,
  ) {
    this.view = { subscriber: name, topic, partition, records: [] };
  }

  start(): void {
    this.done = this.follow();
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
    this.subscription?.close();
  }

  private get nextOffset(): number {
    const last = this.view.records[this.view.records.length - 1];
    return last ? last.offset + 1 : 0;
  }

  private async follow(): Promise<void> {
    while (!this.stopped && this.reopens <= maxReopens) {
      this.subscription = this.consumer.subscribe({ topic: this.view.topic, partition: this.view.partition, from: this.nextOffset });
      try {
        for await (const record of this.subscription) {
          this.view.records.push({ offset: record.offset, value: textOf(record.value) });
          if (this.view.records.length - this.notedUpTo >= deliveriesPerNote) this.noteDeliveries();
        }
      } catch (err) {
        this.history.note("subscribe-error", { subscriber: this.view.subscriber, next: this.nextOffset, error: (err as Error).message });
      }
      if (this.stopped) break;
      this.reopens++;
      await delay(reopenBackoffMs, undefined, { signal: this.abort.signal }).catch(() => undefined);
    }
    this.noteDeliveries();
  }

  private noteDeliveries(): void {
    const records = this.view.records;
    if (records.length === this.notedUpTo) return;
    const from = records[this.notedUpTo].offset;
    const to = records[records.length - 1].offset;
    this.history.note("delivered", { subscriber: this.view.subscriber, partition: this.view.partition, from, to, count: records.length - this.notedUpTo });
    this.notedUpTo = records.length;
  }
}

export class SubscriberWorkload implements Workload {
  readonly name: string;
  readonly topics: readonly TopicSpec[];
  private followers: Follower[] = [];
  private clients: RaftlineClient[] = [];

  constructor(private readonly options: SubscriberWorkloadOptions) {
    this.name = options.name;
    this.topics = [options.topic];
  }

  start(ctx: WorkloadContext): void {
    const { topic } = this.options;
    for (let p = 0; p < topic.partitions; p++) {
      const name = `${this.name}-p${p}`;
      const client = new RaftlineClient({ ...connectionDefaults().client, brokers: ctx.brokers, clientId: name });
      this.clients.push(client);
      const consumer = client.consumer({ readFrom: this.options.readFrom });
      this.followers.push(new Follower(name, topic.name, p, consumer, ctx.history));
    }
    for (const f of this.followers) f.start();
  }

  warmedUp(): boolean {
    return this.followers.some((f) => f.view.records.length > 0);
  }

  async stop(): Promise<void> {
    for (const f of this.followers) f.stop();
    await withDeadline(Promise.all(this.followers.map((f) => f.done)), stopDeadlineMs, "subscriptions to stop").catch(() => undefined);
    await Promise.all(this.clients.map((c) => c.close({ flush: false })));
  }

  views(): SubscriberView[] {
    return this.followers.map((f) => f.view);
  }

  check(final: FinalView): Violation[] {
    return subscriberPrefixes(this.views(), final.reference);
  }

  summary(): Record<string, number> {
    return {
      [`${this.name} delivered`]: this.followers.reduce((n, f) => n + f.view.records.length, 0),
      [`${this.name} reopened`]: this.followers.reduce((n, f) => n + f.reopens, 0),
    };
  }
}
