// Work-queue workers on the chaos topic for the whole run: two streaming workers and one Pop worker of a
// share group. Each record's fate is fixed by its value: most are accepted, some released once first,
// a few always released (they reach the delivery limit) and a few rejected. Now and then the oldest
// streaming worker dies holding unanswered records and a new one starts. After the producers stop, the
// workers drain the topic, and the run checks the promises of queue-checks.ts.
import { setTimeout as delay } from "node:timers/promises";
import { RaftlineClient, type QueueDelivery, type ShareGroupDescription, type WorkQueue } from "../../src/client";
import { connectionDefaults } from "../support/connection-defaults";
import { withDeadline } from "../support/wait";
import type { History } from "./history";
import { type StoredRecord, type Violation, textOf } from "./model";
import { type AcceptObservation, type QueueDeliveryObservation, queueAllDone, queueDeadLetters, queueDeliveries, queueNoneBoth } from "./queue-checks";
import type { FinalView, TopicSpec, Workload, WorkloadContext } from "./workload";

export interface QueueWorkloadOptions {
  name: string;
  topic: TopicSpec;
  /** A streaming worker dies and a new one starts this often. */
  churnEveryMs: number;
  requestTimeoutMs: number;
}

const config = { deliveryLimit: 3, lockTimeoutMs: 2000, backoffInitialMs: 50, backoffMaxMs: 400, maxInFlightPerPartition: 200 };
/** After the producers stop, how long the workers get to finish every record. */
const drainDeadlineMs = 60_000;
const closeDeadlineMs = 10_000;
/** Polls (500 ms apart) the group must stay done at the end of every partition. */
const settledPollsNeeded = 6;

type Fate = "accept" | "release-once" | "always-release" | "reject";

/** A record's fate, from its value: the same on every delivery, whoever handles it. */
function fateOf(value: string): Fate {
  let h = 2166136261;
  for (let i = 0; i < value.length; i++) h = Math.imul(h ^ value.charCodeAt(i), 16777619) >>> 0;
  const n = h % 100;
  return n < 3 ? "reject" : n < 6 ? "always-release" : n < 16 ? "release-once" : "accept";
}

interface Worker {
  queue: WorkQueue;
  /** Set to make a streaming worker die at its next delivery. */
  dying: boolean;
  done: Promise<void>;
}

export class QueueWorkload implements Workload {
  readonly name: string;
  readonly topics: readonly TopicSpec[];
  private readonly deadLetterTopic: string;
  private readonly deliveries: QueueDeliveryObservation[] = [];
  private readonly accepted: AcceptObservation[] = [];
  private readonly streaming: Worker[] = [];
  private popWorker: Promise<void> | undefined;
  private client: RaftlineClient | undefined;
  private history: History | undefined;
  private startOffsets: number[] = [];
  private stopped = false;
  private churning: Promise<void> | undefined;
  private started = 0;
  private died = 0;

  constructor(private readonly options: QueueWorkloadOptions) {
    this.name = options.name;
    this.deadLetterTopic = `${options.name}.dlq`;
    this.topics = [options.topic, { name: this.deadLetterTopic, partitions: 1, derived: true }];
  }

  start(ctx: WorkloadContext): void {
    this.history = ctx.history;
    this.client = new RaftlineClient({ ...connectionDefaults().client, brokers: ctx.brokers, clientId: this.name, requestTimeoutMs: this.options.requestTimeoutMs });
    for (let i = 0; i < 2; i++) this.startStreaming();
    this.popWorker = this.popLoop();
    this.churning = this.churn();
  }

  warmedUp(): boolean {
    return this.accepted.length > 0;
  }

  async stop(): Promise<void> {
    await this.drain().catch((err: unknown) => this.history?.note("queue-drain", { error: (err as Error).message }));
    this.stopped = true;
    await this.churning;
    await withDeadline(Promise.all([...this.streaming.map((w) => w.queue.close().then(() => w.done)), this.popWorker]), closeDeadlineMs, "queue workers to close").catch(() => undefined);
    await this.client?.close({ flush: false });
  }

  check(final: FinalView): Violation[] {
    const topic = this.options.topic.name;
    const deadLetters: readonly StoredRecord[] = final.reference.get(this.deadLetterTopic)?.[0] ?? [];
    return [
      ...queueAllDone(topic, final.reference, this.startOffsets),
      ...queueDeadLetters(topic, final.reference, deadLetters, config.deliveryLimit),
      ...queueNoneBoth(topic, this.accepted, deadLetters),
      ...queueDeliveries(topic, final.reference, this.deliveries, this.accepted, config.deliveryLimit),
    ];
  }

  summary(): Record<string, number> {
    return {
      [`${this.name} deliveries`]: this.deliveries.length,
      [`${this.name} acceptances acknowledged`]: this.accepted.length,
      [`${this.name} workers started`]: this.started,
      [`${this.name} workers died holding records`]: this.died,
    };
  }

  private queue(): WorkQueue {
    return (this.client as RaftlineClient).queue({ group: this.name, topic: this.options.topic.name, config: { ...config, deadLetterTopic: this.deadLetterTopic }, prefetch: 20 });
  }

  /** Handles one delivery as its fate says. */
  private handle(d: QueueDelivery): void {
    const value = textOf(d.value);
    this.deliveries.push({ partition: d.partition, offset: d.offset, value, deliveryCount: d.deliveryCount });
    const fate = fateOf(value);
    const answer =
      fate === "reject"
        ? d.reject("chaos poison")
        : fate === "always-release" || (fate === "release-once" && d.deliveryCount === 1)
          ? d.release()
          : d.ack().then(() => {
              this.accepted.push({ partition: d.partition, offset: d.offset, deliveryCount: d.deliveryCount });
            });
    // A refused or unanswered ack leaves the record to come again: allowed, and checked.
    answer.catch(() => undefined);
  }

  private startStreaming(): void {
    const queue = this.queue();
    const worker: Worker = { queue, dying: false, done: Promise.resolve() };
    this.started++;
    worker.done = (async () => {
      try {
        for await (const d of queue) {
          if (worker.dying) {
            // Dies holding this delivery and whatever it prefetched: their locks must run out.
            this.history?.note("queue-worker-died", { consumer: queue.consumerId });
            return;
          }
          this.handle(d);
        }
      } catch (err) {
        this.history?.note("queue-worker-failed", { consumer: queue.consumerId, error: (err as Error).message });
      }
    })();
    this.streaming.push(worker);
  }

  private async popLoop(): Promise<void> {
    const queue = this.queue();
    while (!this.stopped) {
      try {
        for (const d of await queue.pop({ maxRecords: 10, timeoutMs: 500 })) this.handle(d);
      } catch {
        await delay(100);
      }
    }
    await queue.close();
  }

  private async churn(): Promise<void> {
    while (!this.stopped) {
      await delay(this.options.churnEveryMs);
      if (this.stopped) return;
      const dying = this.streaming.shift();
      if (!dying) continue;
      dying.dying = true;
      this.died++;
      void withDeadline(dying.done, closeDeadlineMs, "a dying worker").then(() => dying.queue.close(), () => dying.queue.close());
      this.startStreaming();
    }
  }

  /** Waits until the share group is done with every record of the topic, and stays so. */
  private async drain(): Promise<void> {
    const client = this.client;
    if (!client) return;
    const deadline = Date.now() + drainDeadlineMs;
    let settledPolls = 0;
    let lastMarks = "";
    while (settledPolls < settledPollsNeeded) {
      if (Date.now() > deadline) {
        const d = await this.readStartOffsets();
        throw new Error(`the queue workers did not finish every record in time: ${JSON.stringify(d?.partitions ?? "unknown")}`);
      }
      await delay(500);
      try {
        const d = await client.shares().describeShareGroup(this.name);
        this.startOffsets = d.partitions.map((p) => Number(p.startOffset));
        const marks = d.partitions.map((p) => p.highWatermark).join(",");
        const done = d.partitions.every((p) => Number(p.startOffset) === Number(p.highWatermark)) && marks === lastMarks;
        lastMarks = marks;
        settledPolls = done ? settledPolls + 1 : 0;
      } catch {
        settledPolls = 0;
      }
    }
  }

  private async readStartOffsets(): Promise<ShareGroupDescription | undefined> {
    try {
      const d = await (this.client as RaftlineClient).shares().describeShareGroup(this.name);
      this.startOffsets = d.partitions.map((p) => Number(p.startOffset));
      return d;
    } catch {
      // Left as last seen: the check reports what it has.
      return undefined;
    }
  }
}
