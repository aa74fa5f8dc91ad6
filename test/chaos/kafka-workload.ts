// A Kafka client in the chaos run: kafkajs's idempotent producer (acks=-1) writing through the Kafka
// listeners while the nemesis works. Its sends join the run's history like every producer's, so the
// checker holds it to the same promises: every acknowledged record is stored once, nothing appears that
// was not sent. A send that fails is recorded with an unknown outcome (kafkajs does not say). kafkajs
// gives its next batch the failed batch's sequence: the next send still goes through the same producer,
// so the broker must append it (the failed batch was not appended) or refuse it (it was, with other
// records: OUT_OF_ORDER_SEQUENCE_NUMBER), never acknowledge it without storing it. After a second
// failure in a row the producer is replaced by a new one (a new producer id), since kafkajs would keep
// reusing that sequence (see src/kafka/README.md).
import { Kafka, logLevel, type Producer } from "kafkajs";
import type { History } from "./history";
import { Violation, sendValue } from "./model";
import type { TopicSpec, Workload, WorkloadContext } from "./workload";

export interface KafkaWorkloadOptions {
  name: string;
  topic: TopicSpec;
  /** Pause between sends (one send at a time). */
  sendIntervalMs: number;
  /** kafkajs's per-request timeout, so a paused leader does not hold a send for its default 30 s. */
  requestTimeoutMs: number;
}

/** Records per send. */
const recordsPerSend = 3;
/** Pause after a failed send: while the cluster is down, kafkajs fails sends at once ("Broker not connected"). */
const failurePauseMs = 500;
/** Failed sends in a row after which the producer is replaced. */
const failuresBeforeReplacing = 2;

export class KafkaWorkload implements Workload {
  readonly name: string;
  readonly topics: readonly TopicSpec[];
  private producer: Producer | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private seq = 0;
  private readonly counts = { acked: 0, failed: 0, refusedReuse: 0 };

  constructor(private readonly options: KafkaWorkloadOptions) {
    this.name = options.name;
    this.topics = [options.topic];
  }

  start(ctx: WorkloadContext): void {
    const kafka = new Kafka({
      clientId: this.name,
      brokers: ctx.kafkaBrokers,
      logLevel: logLevel.NOTHING,
      requestTimeout: this.options.requestTimeoutMs,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    this.running = true;
    this.loop = this.run(kafka, ctx.history);
  }

  warmedUp(): boolean {
    return this.counts.acked > 0;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.producer?.disconnect().catch(() => undefined);
    await this.loop;
  }

  /** Its sends are checked by the run, with every other producer's. */
  check(): Violation[] {
    return [];
  }

  summary(): Record<string, number> {
    return {
      [`${this.name} acked`]: this.counts.acked,
      [`${this.name} failed`]: this.counts.failed,
      [`${this.name} reused sequences refused`]: this.counts.refusedReuse,
    };
  }

  /** A connected new producer (a new producer id), or undefined once the workload stops. */
  private async connect(kafka: Kafka): Promise<Producer | undefined> {
    while (this.running) {
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      this.producer = producer;
      try {
        await producer.connect();
        return producer;
      } catch {
        await producer.disconnect().catch(() => undefined);
        await pause(failurePauseMs);
      }
    }
    return undefined;
  }

  private async run(kafka: Kafka, history: History): Promise<void> {
    const name = `${this.name}-1`;
    let producer = await this.connect(kafka);
    let failuresInARow = 0;
    while (this.running && producer) {
      const partition = this.seq % this.options.topic.partitions;
      const ops = Array.from({ length: recordsPerSend }, () => {
        const seq = this.seq++;
        return history.invoke({ value: sendValue(name, seq), producer: name, idempotent: true, ordered: false, topic: this.options.topic.name, partition, seq });
      });
      try {
        const [placed] = await producer.send({ topic: this.options.topic.name, acks: -1, messages: ops.map((op) => ({ key: name, value: op.value, partition })) });
        const base = Number(placed.baseOffset);
        ops.forEach((op, i) => history.acked(op, base + i));
        this.counts.acked += ops.length;
        await pause(this.options.sendIntervalMs);
        failuresInARow = 0;
      } catch (err) {
        for (const op of ops) history.failed(op, `kafkajs: ${err instanceof Error ? err.message : String(err)}`);
        this.counts.failed += ops.length;
        if ((err as { type?: string }).type === "OUT_OF_ORDER_SEQUENCE_NUMBER") this.counts.refusedReuse++;
        failuresInARow++;
        await pause(failurePauseMs);
        if (failuresInARow >= failuresBeforeReplacing) {
          await producer.disconnect().catch(() => undefined);
          producer = await this.connect(kafka);
          failuresInARow = 0;
        }
      }
    }
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
