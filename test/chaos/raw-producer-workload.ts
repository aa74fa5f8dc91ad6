// A client generated from proto/ with no SDK around it: one Produce attempt per record, no retries,
// sent to each node in turn (followers forward to the leader). Every failure is classified the way
// errors.proto's "Did my write happen?" table says, and the run checks that a record answered "certainly
// not appended" never shows up in the log (checker.ts, refusedAppended), whatever the nemesis did to the
// leader while the forward was in flight.
import * as grpc from "@grpc/grpc-js";
import { toRaftlineError } from "../../src/client/errors";
import type { ProduceResponse__Output } from "../../src/generated/raftline/v1/ProduceResponse";
import { RawStubs, rawStubs, unaryCall } from "../support/raw-stubs";
import { waitFor } from "../support/wait";
import type { History } from "./history";
import { SendOp, Violation, sendValue } from "./model";
import type { TopicSpec, Workload, WorkloadContext } from "./workload";

export interface RawProducerOptions {
  name: string;
  topic: TopicSpec;
  sendIntervalMs: number;
  maxOutstandingSends: number;
  /** The deadline of each attempt; DEADLINE_EXCEEDED leaves its outcome unknown. */
  requestTimeoutMs: number;
}

/** How long stop() lets outstanding attempts answer (each is bounded by its deadline). */
const stopSettleMs = 10000;

export class RawProducerWorkload implements Workload {
  readonly name: string;
  readonly topics: readonly TopicSpec[];
  private stubs: RawStubs[] = [];
  private history: History | undefined;
  private readonly outstanding = new Set<SendOp>();
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  private readonly counts = { acked: 0, refused: 0, unknown: 0 };

  constructor(private readonly options: RawProducerOptions) {
    this.name = options.name;
    this.topics = [options.topic];
  }

  start(ctx: WorkloadContext): void {
    this.history = ctx.history;
    this.stubs = ctx.brokers.map((address) => rawStubs(address));
    this.timer = setInterval(() => this.sendOne(), this.options.sendIntervalMs);
  }

  warmedUp(): boolean {
    return this.counts.acked > 0;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await waitFor(() => this.outstanding.size === 0, stopSettleMs, "raw sends to answer").catch(() => undefined);
    for (const op of this.outstanding) this.history?.failed(op, "abandoned when the run ended");
    this.outstanding.clear();
    for (const s of this.stubs) s.close();
  }

  /** Its sends are checked by the run, with every other producer's. */
  check(): Violation[] {
    return [];
  }

  summary(): Record<string, number> {
    return {
      [`${this.name} acked`]: this.counts.acked,
      [`${this.name} certainly refused`]: this.counts.refused,
      [`${this.name} unknown`]: this.counts.unknown,
    };
  }

  private sendOne(): void {
    const history = this.history;
    if (!history || this.outstanding.size >= this.options.maxOutstandingSends) return;
    const seq = this.seq++;
    const { topic } = this.options;
    const partition = seq % topic.partitions;
    const producer = `${this.name}-1`;
    const op = history.invoke({ value: sendValue(producer, seq), producer, idempotent: false, ordered: false, topic: topic.name, partition, seq });
    this.outstanding.add(op);
    const stubs = this.stubs[seq % this.stubs.length];
    const request = { batches: [{ topic: topic.name, partition, records: [{ value: Buffer.from(op.value), key: Buffer.from(producer) }] }] };
    unaryCall<ProduceResponse__Output>((o, cb) => stubs.producer.Produce(request, new grpc.Metadata(), o, cb), this.options.requestTimeoutMs).then(
      (res) => {
        if (!this.outstanding.delete(op)) return;
        this.counts.acked++;
        history.acked(op, Number(res.results[0].appends[0].baseOffset));
      },
      (err: unknown) => {
        if (!this.outstanding.delete(op)) return;
        const e = toRaftlineError(err);
        if (e.outcomeUnknown) this.counts.unknown++;
        else this.counts.refused++;
        history.failed(op, `${e.codeName} ${e.reason}: ${e.message}`, !e.outcomeUnknown);
      },
    );
  }
}
