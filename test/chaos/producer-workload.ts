// Producers under steady, bounded load: each sends one record every sendIntervalMs (acks = quorum),
// cycling through the partitions, with at most maxOutstandingSends unanswered. Every record's value is
// unique (model.sendValue), so the checker can trace each stored record back to the attempt that sent it.
// Plain and idempotent producers are the same workload with different producer options.
//
// An idempotent producer stops for good when a batch's outcome stays unknown beyond its retry budget;
// like an application would, the workload then opens a new one (a new producer id) under a new name,
// `${producer}.${generation}`, so that exactly-once and order are checked per producer id.
import { connectionDefaults } from "../support/connection-defaults";
import { RaftlineClient, RaftlineError } from "../../src/client";
import type { ProducerMessage, ProducerOptions, RecordMetadata } from "../../src/client";
import { waitFor } from "../support/wait";
import type { History } from "./history";
import { SendOp, Violation, sendValue } from "./model";
import type { TopicSpec, Workload, WorkloadContext } from "./workload";

/** The part of the SDK producer the workload uses. */
export interface ChaosProducer {
  send(message: ProducerMessage): Promise<RecordMetadata[]>;
}

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
}

/** How long stop() lets outstanding sends finish before it closes the clients. */
export const stopSettleMs = 15000;
/** After closing, how long aborted sends get to report their failure. */
const abortSettleMs = 5000;
/** Producers one loop may open over a run (an idempotent one is replaced each time it stops). */
export const maxGenerations = 1000;

interface Generation {
  name: string;
  client: RaftlineClient;
  producer: ChaosProducer;
  seq: number;
}

class ChaosProducerLoop {
  private readonly outstanding = new Set<SendOp>();
  private readonly retired: RaftlineClient[] = [];
  private current: Generation;
  private generations = 0;
  private timer: NodeJS.Timeout | undefined;
  acked = 0;

  constructor(
    private readonly baseName: string,
    private readonly brokers: string[],
    private readonly options: ProducerWorkloadOptions,
    private readonly history: History,
  ) {
    this.current = this.open();
  }

  get openSends(): number {
    return this.outstanding.size;
  }

  /** Producers replaced after they stopped. */
  get replaced(): number {
    return this.generations - 1;
  }

  start(): void {
    this.timer = setInterval(() => this.sendOne(), this.options.sendIntervalMs);
  }

  halt(): void {
    clearInterval(this.timer);
  }

  async close(): Promise<void> {
    await Promise.all([this.current.client, ...this.retired].map((c) => c.close({ flush: false })));
  }

  /** Sends still unanswered after the client closed: their outcome is unknown. */
  abandon(): void {
    for (const op of this.outstanding) this.history.failed(op, "abandoned when the run ended");
    this.outstanding.clear();
  }

  private open(): Generation {
    const name = this.generations === 0 ? this.baseName : `${this.baseName}.${this.generations}`;
    this.generations++;
    const client = new RaftlineClient({ ...connectionDefaults().client, brokers: this.brokers, clientId: name });
    const producerOptions: ProducerOptions = {
      acks: "quorum",
      maxInFlight: this.options.maxInFlight,
      requestTimeoutMs: this.options.requestTimeoutMs,
      idempotent: this.options.idempotent,
    };
    return { name, client, producer: client.producer(producerOptions), seq: 0 };
  }

  /** An idempotent producer that failed a send has stopped: every later send would fail too. */
  private replace(failed: Generation, error: string): void {
    if (failed !== this.current || this.generations >= maxGenerations) return;
    this.history.note("producer-replaced", { producer: failed.name, error });
    this.retired.push(failed.client);
    void failed.client.close({ flush: false });
    this.current = this.open();
  }

  private sendOne(): void {
    if (this.outstanding.size >= this.options.maxOutstandingSends) return;
    const generation = this.current;
    const seq = generation.seq++;
    const { topic } = this.options;
    const partition = seq % topic.partitions;
    const op = this.history.invoke({
      value: sendValue(generation.name, seq),
      producer: generation.name,
      idempotent: this.options.idempotent,
      ordered: this.options.idempotent || this.options.maxInFlight === 1,
      topic: topic.name,
      partition,
      seq,
    });
    this.outstanding.add(op);
    const record = { key: generation.name, value: op.value, headers: [{ key: "seq", value: String(seq) }] };
    generation.producer.send({ topic: topic.name, partition, records: [record] }).then(
      ([placed]) => {
        if (!this.outstanding.delete(op)) return;
        this.acked++;
        this.history.acked(op, placed.offset);
      },
      (err: unknown) => {
        if (!this.outstanding.delete(op)) return;
        const error = err instanceof Error ? err.message : String(err);
        // Only the plain producer keeps an unknown outcome across its retries (RaftlineError.outcomeUnknown).
        const certain = !this.options.idempotent && err instanceof RaftlineError && !err.outcomeUnknown;
        this.history.failed(op, error, certain);
        if (this.options.idempotent) this.replace(generation, error);
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
    for (let i = 1; i <= this.options.producers; i++) {
      this.loops.push(new ChaosProducerLoop(`${this.name}-${i}`, ctx.brokers, this.options, ctx.history));
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
    const summary: Record<string, number> = { [`${this.name} acked`]: this.loops.reduce((n, l) => n + l.acked, 0) };
    if (this.options.idempotent) summary[`${this.name} replaced`] = this.loops.reduce((n, l) => n + l.replaced, 0);
    return summary;
  }
}
