// A live subscription to one partition, read as an async iterator of records. The gRPC stream's own flow
// control bounds what is buffered here (grpc-js pauses reading while the iterator is not pulled). A
// retriable failure resubscribes from the offset after the last record delivered, through the retrier;
// any progress resets the retry budget.
import type * as grpc from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import type { SubscribeRequest } from "../generated/raftline/v1/SubscribeRequest";
import type { SubscribeResponse__Output } from "../generated/raftline/v1/SubscribeResponse";
import type { CallRunner } from "./call-runner";
import { RaftlineError, toRaftlineError } from "./errors";
import { ConsumedRecord, fromWireRecord } from "./records";
import { RetryBudget } from "./retry";

export type StartFrom = "earliest" | "latest" | number;

export interface SubscribeOptions {
  topic: string;
  partition: number;
  /** An offset in [start offset, high watermark], or "earliest" / "latest". */
  from: StartFrom;
  /** Soft bound on one pushed response's record bytes; 0 or absent = the server's default. */
  maxBytes?: number;
}

export function subscribeRequest(o: SubscribeOptions, from: StartFrom): SubscribeRequest {
  const request: SubscribeRequest = { topic: o.topic, partition: o.partition, maxBytes: o.maxBytes ?? 0 };
  if (typeof from === "number") request.offset = from;
  else request.position = from === "earliest" ? "START_POSITION_EARLIEST" : "START_POSITION_LATEST";
  return request;
}

export class Subscription implements AsyncIterable<ConsumedRecord> {
  private call: grpc.ClientReadableStream<SubscribeResponse__Output> | undefined;
  private closed = false;
  private iterated = false;
  private position: StartFrom;

  constructor(
    private readonly runner: CallRunner,
    private readonly options: SubscribeOptions,
    private readonly preferLeader: boolean,
  ) {
    this.position = options.from;
  }

  /** The offset the next record will have, once known. */
  get nextOffset(): number | undefined {
    return typeof this.position === "number" ? this.position : undefined;
  }

  /** Ends the iteration (the pending next() returns done). */
  close(): void {
    this.closed = true;
    this.call?.cancel();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ConsumedRecord, void, undefined> {
    if (this.iterated) throw new Error("a subscription can be iterated only once");
    this.iterated = true;
    const budget = new RetryBudget(this.runner.policy, this.runner.clock);
    try {
      while (!this.closed) {
        const address = this.runner.pool.target(this.preferLeader);
        try {
          const call = this.runner.pool.stubs(address).consumer.Subscribe(subscribeRequest(this.options, this.position));
          this.call = call;
          for await (const response of call as AsyncIterable<SubscribeResponse__Output>) {
            budget.reset();
            this.advance(response);
            for (const record of response.records) {
              this.position = record.offset + 1;
              yield fromWireRecord(this.options.topic, this.options.partition, record);
            }
          }
          throw new RaftlineError({ code: status.UNAVAILABLE, message: "the broker ended the subscription", address });
        } catch (thrown) {
          if (this.closed) return;
          const err = toRaftlineError(thrown, address);
          this.runner.pool.noteError(err);
          const waitMs = budget.next(err);
          if (waitMs === undefined) throw err;
          if (waitMs > 0) await this.runner.clock.sleep(waitMs);
        }
      }
    } finally {
      this.call?.cancel();
    }
  }

  // An empty answer to a "latest" subscription fixes its position at the watermark it reports, so a
  // resubscription does not skip records committed meanwhile.
  private advance(response: SubscribeResponse__Output): void {
    if (this.position === "latest" && response.records.length === 0) this.position = response.highWatermark;
  }
}
