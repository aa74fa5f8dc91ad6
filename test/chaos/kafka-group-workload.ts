// A Kafka consumer group in the chaos run: one kafkajs consumer reading the chaos topic through the Kafka
// listeners for the whole run, in its own group, committing as kafkajs does by default. When leaders
// die it must find the new coordinator and partition leader and rejoin. After the producers stop it
// drains to the end of the log, and the check is that it consumed every record the cluster holds —
// every acknowledged Kafka record among them (that each of those is in the log, the run checks).
import { setTimeout as delay } from "node:timers/promises";
import { Kafka, logLevel, type Admin, type Consumer } from "kafkajs";
import { groupConsumedAll, type Consumed } from "./group-checks";
import type { History } from "./history";
import { type Violation, textOf } from "./model";
import type { FinalView, TopicSpec, Workload, WorkloadContext } from "./workload";

export interface KafkaGroupWorkloadOptions {
  name: string;
  topic: TopicSpec;
  sessionTimeoutMs: number;
  requestTimeoutMs: number;
}

/** After the producers stop, how long the consumer gets to read to the end of the log. */
const drainDeadlineMs = 45_000;
/** Polls (500 ms apart) the consumer must stay at the end of every partition, with the ends not moving. */
const settledPollsNeeded = 6;
const closeDeadlineMs = 10_000;

export class KafkaGroupWorkload implements Workload {
  readonly name: string;
  readonly topics: readonly TopicSpec[];
  private readonly consumed: Consumed = new Map();
  private consumer: Consumer | undefined;
  private admin: Admin | undefined;
  private history: History | undefined;
  private records = 0;
  private crashes = 0;
  private joins = 0;

  constructor(private readonly options: KafkaGroupWorkloadOptions) {
    this.name = options.name;
    this.topics = [options.topic];
  }

  start(ctx: WorkloadContext): void {
    this.history = ctx.history;
    const kafka = new Kafka({
      clientId: this.name,
      brokers: ctx.kafkaBrokers,
      logLevel: logLevel.NOTHING,
      requestTimeout: this.options.requestTimeoutMs,
      // kafkajs gives up after its retries and crashes the consumer; it restarts it when this says so.
      retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000, restartOnFailure: async () => true },
    });
    this.admin = kafka.admin();
    const consumer = kafka.consumer({ groupId: this.name, sessionTimeout: this.options.sessionTimeoutMs, heartbeatInterval: 500, maxWaitTimeInMs: 250 });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.joins++;
      this.history?.note("kafka-group-join", { member: e.payload.memberId, partitions: e.payload.memberAssignment[this.options.topic.name] ?? [] });
    });
    consumer.on(consumer.events.CRASH, (e) => {
      this.crashes++;
      this.history?.note("kafka-group-crash", { error: e.payload.error.message, restart: e.payload.restart });
    });
    void this.run(consumer).catch((err: unknown) => this.history?.note("kafka-group-failed", { error: (err as Error).message }));
  }

  warmedUp(): boolean {
    return this.records > 0;
  }

  async stop(): Promise<void> {
    await this.drain().catch((err: unknown) => this.history?.note("kafka-group-drain", { error: (err as Error).message }));
    await Promise.race([Promise.all([this.consumer?.disconnect(), this.admin?.disconnect()]), delay(closeDeadlineMs)]).catch(() => undefined);
  }

  check(final: FinalView): Violation[] {
    return groupConsumedAll(this.options.topic.name, this.consumed, final.reference).map((v) => ({ ...v, message: `${this.name}: ${v.message}` }));
  }

  summary(): Record<string, number> {
    return { [`${this.name} consumed`]: this.records, [`${this.name} joins`]: this.joins, [`${this.name} crashes`]: this.crashes };
  }

  /** Connects and runs the consumer, retrying the connection while the cluster is down. */
  private async run(consumer: Consumer): Promise<void> {
    for (;;) {
      try {
        await consumer.connect();
        await consumer.subscribe({ topic: this.options.topic.name, fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ partition, message }) => {
            let byOffset = this.consumed.get(partition);
            if (!byOffset) this.consumed.set(partition, (byOffset = new Map()));
            byOffset.set(Number(message.offset), message.value ? textOf(message.value) : "");
            this.records++;
          },
        });
        return;
      } catch (err) {
        this.history?.note("kafka-group-connect", { error: (err as Error).message });
        await consumer.disconnect().catch(() => undefined);
        await delay(500);
      }
    }
  }

  /** Waits until every offset stored in each partition was consumed, with the ends settled. */
  private async drain(): Promise<void> {
    const admin = this.admin;
    if (!admin) return;
    await admin.connect();
    const deadline = Date.now() + drainDeadlineMs;
    let settledPolls = 0;
    let lastMarks = "";
    while (settledPolls < settledPollsNeeded) {
      if (Date.now() > deadline) throw new Error("the Kafka consumer did not read to the end of the log in time");
      await delay(500);
      try {
        const ends = await admin.fetchTopicOffsets(this.options.topic.name);
        const marks = ends.map((e) => `${e.partition}:${e.high}`).sort().join(",");
        const done = ends.every((e) => this.consumedBetween(e.partition, Number(e.low), Number(e.high))) && marks === lastMarks;
        lastMarks = marks;
        settledPolls = done ? settledPolls + 1 : 0;
      } catch {
        settledPolls = 0;
      }
    }
  }

  /** Whether every offset in [start, end) was consumed. */
  private consumedBetween(partition: number, start: number, end: number): boolean {
    const byOffset = this.consumed.get(partition) ?? new Map<number, string>();
    for (let offset = end - 1; offset >= start; offset--) if (!byOffset.has(offset)) return false;
    return true;
  }
}
