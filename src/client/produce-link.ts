// One ProduceStream to one broker: requests are pipelined, matched to answers by correlation id. The
// producer bounds how many are in flight. A request left unanswered past its timeout breaks the link
// (a paused or partitioned broker keeps TCP open but never answers); every request still waiting then
// fails with DEADLINE_EXCEEDED, whose outcome is unknown.
import type * as grpc from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import type { Acks } from "../generated/raftline/v1/Acks";
import type { ProduceBatch } from "../generated/raftline/v1/ProduceBatch";
import type { ProduceBatchResult__Output } from "../generated/raftline/v1/ProduceBatchResult";
import type { ProduceRequest } from "../generated/raftline/v1/ProduceRequest";
import type { ProducerClient } from "../generated/raftline/v1/Producer";
import type { ProduceResponse__Output } from "../generated/raftline/v1/ProduceResponse";
import { RaftlineError, fromErrorStatus, toRaftlineError } from "./errors";

interface Waiting {
  resolve(results: ProduceBatchResult__Output[]): void;
  reject(err: RaftlineError): void;
  timer: NodeJS.Timeout;
}

export class ProduceLink {
  private readonly waiting = new Map<number, Waiting>();
  private readonly call: grpc.ClientDuplexStream<ProduceRequest, ProduceResponse__Output>;
  private nextCorrelationId = 1;
  private failure: RaftlineError | undefined;

  constructor(
    readonly address: string,
    stub: ProducerClient,
    private readonly requestTimeoutMs: number,
  ) {
    this.call = stub.ProduceStream();
    this.call.on("data", (response: ProduceResponse__Output) => this.answer(response));
    this.call.on("error", (err: unknown) => this.fail(toRaftlineError(err, address)));
    this.call.on("end", () =>
      this.fail(new RaftlineError({ code: status.UNAVAILABLE, message: "the broker ended the produce stream", address })),
    );
  }

  get broken(): boolean {
    return this.failure !== undefined;
  }

  get inFlight(): number {
    return this.waiting.size;
  }

  send(batches: ProduceBatch[], acks: Acks): Promise<ProduceBatchResult__Output[]> {
    if (this.failure) return Promise.reject(this.failure);
    const correlationId = this.nextCorrelationId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.timeOut(correlationId), this.requestTimeoutMs);
      this.waiting.set(correlationId, { resolve, reject, timer });
      this.call.write({ correlationId, batches, acks });
    });
  }

  /** Stops sending; requests already sent still get their answers. */
  end(): void {
    if (!this.failure) this.call.end();
  }

  /** Drops the stream; requests still waiting fail with `err`. */
  fail(err: RaftlineError): void {
    if (this.failure) return;
    this.failure = err;
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.waiting.clear();
    this.call.cancel();
  }

  private answer(response: ProduceResponse__Output): void {
    const w = this.waiting.get(response.correlationId);
    if (!w) return;
    this.waiting.delete(response.correlationId);
    clearTimeout(w.timer);
    if (response.error) w.reject(fromErrorStatus(response.error, this.address));
    else w.resolve(response.results);
  }

  private timeOut(correlationId: number): void {
    if (!this.waiting.has(correlationId)) return;
    this.fail(
      new RaftlineError({
        code: status.DEADLINE_EXCEEDED,
        message: `no produce answer from ${this.address} within ${this.requestTimeoutMs} ms; outcome unknown`,
        address: this.address,
      }),
    );
  }
}
