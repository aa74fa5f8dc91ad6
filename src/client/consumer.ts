// Reads records: one-shot long-poll fetches, or subscriptions that push records as they commit. Reads
// go to the leader by default (the freshest view); a follower may trail it briefly but never shows
// uncommitted records.
import type { FetchResponse__Output } from "../generated/raftline/v1/FetchResponse";
import type { CallRunner } from "./call-runner";
import { callUnary } from "./call-runner";
import { ConsumedRecord, fromWireRecord } from "./records";
import { SubscribeOptions, Subscription } from "./subscription";
import { Admin } from "./admin";
import { TopicSubscription } from "./topic-subscription";

export interface ConsumerOptions {
  /** "leader" (default) or "any" broker in turn. */
  readFrom?: "leader" | "any";
}

export interface FetchOptions {
  topic: string;
  partition: number;
  offset: number;
  /** Soft bound on returned record bytes; 0 or absent = the server's default (1 MiB). */
  maxBytes?: number;
  /** Wait until this many bytes are available (0 = answer at once; absent = 1 when maxWaitMs is set)... */
  minBytes?: number;
  /** ...or until this long has passed (absent or 0 = answer at once). */
  maxWaitMs?: number;
}

export interface FetchResult {
  records: ConsumedRecord[];
  highWatermark: number;
  logStartOffset: number;
  /** The offset to fetch next. */
  nextOffset: number;
}

export class Consumer {
  private readonly preferLeader: boolean;

  constructor(
    private readonly runner: CallRunner,
    private readonly requestTimeoutMs: number,
    options: ConsumerOptions,
  ) {
    this.preferLeader = (options.readFrom ?? "leader") === "leader";
  }

  async fetch(o: FetchOptions): Promise<FetchResult> {
    const request = {
      topic: o.topic,
      partition: o.partition,
      offset: o.offset,
      maxBytes: o.maxBytes ?? 0,
      // A wait without a size would answer at once: asking to wait means waiting for a record.
      minBytes: o.minBytes ?? (o.maxWaitMs ? 1 : 0),
      maxWaitMs: o.maxWaitMs ?? 0,
    };
    // The long poll itself may take maxWaitMs; the deadline covers it plus the usual answer time.
    const timeoutMs = request.maxWaitMs + this.requestTimeoutMs;
    const response = await this.runner.run(this.preferLeader, (s) =>
      callUnary<FetchResponse__Output>(s.address, timeoutMs, (opts, done) => s.consumer.Fetch(request, opts, done)),
    );
    return {
      records: response.records.map((r) => fromWireRecord(o.topic, o.partition, r)),
      highWatermark: response.highWatermark,
      logStartOffset: response.logStartOffset,
      nextOffset: response.nextOffset,
    };
  }

  /** Records of one partition from `from` on, as they commit; iterate with `for await`, stop with close() or break. */
  subscribe(o: SubscribeOptions): Subscription {
    return new Subscription(this.runner, o, this.preferLeader);
  }

  /** Every partition of a topic, merged, without a group; each partition's records stay in order. */
  subscribeTopic(o: { topic: string; from: "earliest" | "latest" }): TopicSubscription {
    return new TopicSubscription(this.runner, new Admin(this.runner, this.requestTimeoutMs), o, this.preferLeader);
  }
}
