// Producers under steady, bounded load: each sends one record every sendIntervalMs (acks = quorum),
// cycling through the partitions, with at most maxOutstandingSends unanswered. Every record's value is
// unique (model.sendValue), so the checker can trace each stored record back to the attempt that sent it.
// Plain and idempotent producers are the same workload with a different way to open the producer.
import { RaftlineClient } from "../../src/client";
import type { ProducerMessage, ProducerOptions, RecordMetadata } from "../../src/client";
import { waitFor } from "../support/wait";
import type { History } from "./history";
import { SendOp, Violation, sendValue } from "./model";
import type { TopicSpec, Workload, WorkloadContext } from "./workload";

/** The part of the SDK producer the workload uses. */
export interface ChaosProducer {
  send(message: ProducerMessage): Promise<RecordMetadata[]>;
}

export type OpenProducer = (client: RaftlineClient, options: ProducerOptions) => ChaosProducer;

export interface ProducerWorkloadOptions {
  /** Workload name; its producers are named `${name}-1`, `${name}-2`, ... */
  name: string;
  producers: number;
  topic: TopicSpec;
  idempotent: boolean;
  /** Requests in flight per producer. One makes a plain producer's acknowledged offsets follow send order. */
  maxInFlight: number;
  sendIntervalMs: number;
  /** Sends awaiting an answer per producer; the pacer skips its turn while this many are open. */
  maxOutstandingSends: number;
  /** A request unanswered this long fails and is retried; it bounds a client's wait on a hung leader. */
  requestTimeoutMs: number;
  /** Defaults to the SDK's plain producer. */
  open?: OpenProducer;
}

/** How long stop() lets outstanding sends finish before it closes the clients. */
export const stopSettleMs = 15000;
/** After closing, how long aborted sends get to report their failure. */
const abortSettleMs = 5000;

const openPlain: OpenProducer = (client, options) => client.producer(options);

class ChaosProducerLoop {
  private seq = 0;
  private readonly outstanding = new Set<SendOp>();
  private timer: NodeJS.Timeout | undefined;
  acked = 0;

  constructor(
    readonly name: string,
    private readonly client: RaftlineClient,
    private readonly producer: ChaosProducer,
    private readonly options: ProducerWorkloadOptions,
    private readonly history: History,
  ) {}

  get openSends(): number {
    return this.outstanding.size;
  }

  start(): void {
    this.timer = setInterval(() => this.sendOne(), this.options.sendIntervalMs);
  }

  halt(): void {
    clearInterval(this.timer);
  }

  async close(): Promise<void> {
    await this.client.close({ flush: false });
  }

  /** Sends still unanswered after the client closed: their outcome is unknown. */
  abandon(): void {
    for (const op of this.outstanding) this.history.failed(op, "abandoned when the run ended");
    this.outstanding.clear();
  }

  private sendOne(): void {
    if (this.outstanding.size >= this.options.maxOutstandingSends) return;
    const seq = this.seq++;
    const { topic } = this.options;
    const partition = seq % topic.partitions;
    const op = this.history.invoke({
      value: sendValue(this.name, seq),
      producer: this.name,
      idempotent: this.options.idempotent,
      ordered: this.options.idempotent || this.options.maxInFlight === 1,
      topic: topic.name,
      partition,
      seq,
    });
    this.outstanding.add(op);
    const record = { key: this.name, value: op.value, headers: [{ key: "seq", value: String(seq) }] };
    this.producer.send({ topic: topic.name, partition, records: [record] }).then(
      ([placed]) => {
        if (!this.outstanding.delete(op)) return;
        this.acked++;
        this.history.acked(op, placed.offset);
      },
      (err: unknown) => {
        if (!this.outstanding.delete(op)) return;
        this.history.failed(op, err instanceof Error ? err.message : String(err));
      },
    );
  }
}

export class ProducerWorkload implements Workload {
  readonly name: string;
  readonly topics: readonly TopicSpec[];
  private loops: ChaosProducerLoop[] = [];

  constructor(private readonly options: ProducerWorkloadOptions) {
    this.name = options.name;
    this.topics = [options.topic];
  }

  start(ctx: WorkloadContext): void {
    const open = this.options.open ?? openPlain;
    const producerOptions: ProducerOptions = {
      acks: "quorum",
      maxInFlight: this.options.maxInFlight,
      requestTimeoutMs: this.options.requestTimeoutMs,
    };
    for (let i = 1; i <= this.options.producers; i++) {
      const name = `${this.name}-${i}`;
      const client = new RaftlineClient({ brokers: ctx.brokers, clientId: name });
      this.loops.push(new ChaosProducerLoop(name, client, open(client, producerOptions), this.options, ctx.history));
    }
    for (const loop of this.loops) loop.start();
  }

  warmedUp(): boolean {
    return this.loops.every((l) => l.acked > 0);
  }

  async stop(): Promise<void> {
    for (const loop of this.loops) loop.halt();
    const settled = (): boolean => this.loops.every((l) => l.openSends === 0);
    await waitFor(settled, stopSettleMs, "outstanding sends to settle").catch(() => undefined);
    await Promise.all(this.loops.map((l) => l.close()));
    await waitFor(settled, abortSettleMs, "aborted sends to report").catch(() => undefined);
    for (const loop of this.loops) loop.abandon();
  }

  /** Send attempts are checked by the run, together with every other producer's. */
  check(): Violation[] {
    return [];
  }

  summary(): Record<string, number> {
    return { [`${this.name} acked`]: this.loops.reduce((n, l) => n + l.acked, 0) };
  }
}
