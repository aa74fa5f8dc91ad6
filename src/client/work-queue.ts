// A work-queue consumer of a share group: `for await` over deliveries from a Receive stream (kept open
// at the leader, reopened after a break with the same consumer id, so what it holds stays answerable),
// or `pop()` for a blocking take. Answers of one tick go out together: on the stream when one is open,
// else as one Ack call.
import { randomUUID } from "node:crypto";
import type * as grpc from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import type { AckResult__Output } from "../generated/raftline/v1/AckResult";
import type { CreateShareGroupResponse__Output } from "../generated/raftline/v1/CreateShareGroupResponse";
import type { AckResponse__Output } from "../generated/raftline/v1/AckResponse";
import type { PopResponse__Output } from "../generated/raftline/v1/PopResponse";
import type { ReceiveRequest } from "../generated/raftline/v1/ReceiveRequest";
import type { ReceiveResponse__Output } from "../generated/raftline/v1/ReceiveResponse";
import type { CallRunner } from "./call-runner";
import { callUnary } from "./call-runner";
import { RaftlineError, fromErrorStatus, toRaftlineError } from "./errors";
import { QueueDelivery, type AckRequestItem } from "./queue-delivery";
import { RetryBudget } from "./retry";

export interface QueueConfig {
  /** Deliveries before a released or expired record is dead-lettered (default 5). */
  deliveryLimit: number;
  lockTimeoutMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  maxInFlightPerPartition: number;
  deadLetterTopic: string;
}

export interface QueueOptions {
  group: string;
  topic: string;
  /** Creates the group with this configuration, or replaces an existing group's with it. */
  config?: Partial<QueueConfig>;
  /** Who holds the records; default a fresh id. Reuse it to answer records a previous run holds. */
  consumerId?: string;
  /** Records the stream asks for ahead of the loop (its credit), 1..10000, default 100. */
  prefetch?: number;
}

export interface PopOptions {
  /** 1..1000, default 1. */
  maxRecords?: number;
  /** How long to wait for a first record, 0..300000 ms, default 0. */
  timeoutMs?: number;
}

const defaultPrefetch = 100;
const maxAcksPerRequest = 1000;

interface PendingAck {
  item: AckRequestItem;
  resolve(): void;
  reject(err: unknown): void;
}

const keyOf = (partition: number, offset: number): string => `${partition}/${offset}`;

export class WorkQueue implements AsyncIterable<QueueDelivery> {
  readonly consumerId: string;
  private ensured: Promise<CreateShareGroupResponse__Output> | undefined;
  private call: grpc.ClientDuplexStream<ReceiveRequest, ReceiveResponse__Output> | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  private failure: RaftlineError | undefined;
  private readonly buffer: QueueDelivery[] = [];
  private wake: (() => void) | undefined;
  private outstanding = 0;
  private readonly prefetch: number;
  /** Acks waiting for the next send, and acks sent on the current stream awaiting their result. */
  private queued: PendingAck[] = [];
  /** By record, in the order sent: a record may be answered again (renew, then accept) before the first result. */
  private readonly onStream = new Map<string, PendingAck[]>();
  private flushScheduled = false;
  /** The last Ack call sent outside a stream (ackUnary settles its answers and never rejects). */
  private unarySent: Promise<void> = Promise.resolve();
  /** Every answer not yet settled, so close() can wait for them. */
  private readonly answering = new Set<Promise<void>>();

  constructor(
    private readonly runner: CallRunner,
    private readonly requestTimeoutMs: number,
    private readonly options: QueueOptions,
  ) {
    this.consumerId = options.consumerId ?? `queue-${randomUUID()}`;
    this.prefetch = Math.min(Math.max(options.prefetch ?? defaultPrefetch, 1), 10_000);
  }

  /** Creates the group if it does not exist (and applies `config` if given); resolves to its configuration. */
  ensure(): Promise<CreateShareGroupResponse__Output> {
    this.ensured ??= this.runner
      .run(true, (s) =>
        callUnary<CreateShareGroupResponse__Output>(s.address, this.requestTimeoutMs, (o, done) =>
          s.shares.CreateShareGroup(
            { groupId: this.options.group, topic: this.options.topic, config: this.options.config ?? {}, replaceConfig: this.options.config !== undefined },
            o,
            done,
          ),
        ),
      )
      .catch((err: unknown) => {
        this.ensured = undefined;
        throw err;
      });
    return this.ensured;
  }

  /** Waits up to timeoutMs for records and takes up to maxRecords (answer each with ack() etc.). */
  async pop(options: PopOptions = {}): Promise<QueueDelivery[]> {
    await this.ensure();
    const timeoutMs = options.timeoutMs ?? 0;
    const response = await this.runner.run(true, (s) =>
      callUnary<PopResponse__Output>(s.address, timeoutMs + this.requestTimeoutMs, (o, done) =>
        s.shares.Pop({ groupId: this.options.group, consumerId: this.consumerId, maxRecords: options.maxRecords ?? 1, timeoutMs }, o, done),
      ),
    );
    return response.deliveries.map((d) => new QueueDelivery(d, (item) => this.answer(item)));
  }

  /**
   * Answers a record this consumer holds by its place (what delivery.ack() etc. do), e.g. for records
   * popped by an earlier process with the same consumerId.
   */
  answerRecord(
    record: { partition: number; offset: number; deliveryCount?: number },
    answer: "accept" | "release" | "reject" | "renew",
    options: { delayMs?: number; reason?: string } = {},
  ): Promise<void> {
    const type = ({ accept: "ACK_TYPE_ACCEPT", release: "ACK_TYPE_RELEASE", reject: "ACK_TYPE_REJECT", renew: "ACK_TYPE_RENEW" } as const)[answer];
    return this.answer({ partition: record.partition, offset: record.offset, deliveryCount: record.deliveryCount ?? 0, type, delayMs: options.delayMs ?? 0, reason: options.reason ?? "" });
  }

  [Symbol.asyncIterator](): AsyncIterator<QueueDelivery> {
    this.running ??= this.loop();
    return {
      next: async () => {
        for (;;) {
          const d = this.buffer.shift();
          if (d) {
            this.topUp();
            return { value: d, done: false };
          }
          if (this.failure) throw this.failure;
          if (this.closed) return { value: undefined, done: true };
          await new Promise<void>((resolve) => (this.wake = resolve));
        }
      },
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }

  /** Sends the answers still queued, then ends the stream. Records not answered come back after their lock. */
  async close(): Promise<void> {
    if (this.queued.length > 0) this.flush();
    await Promise.allSettled(this.answering);
    this.closed = true;
    this.call?.cancel();
    this.wake?.();
    await this.running?.catch(() => undefined);
  }

  private answer(item: AckRequestItem): Promise<void> {
    const answered = new Promise<void>((resolve, reject) => {
      this.queued.push({ item, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
    this.answering.add(answered);
    const forget = (): void => void this.answering.delete(answered);
    answered.then(forget, forget);
    return answered;
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const chunk of ackRequests(this.queued.splice(0, this.queued.length))) {
      if (this.call && !this.closed) {
        for (const p of chunk) {
          const key = keyOf(p.item.partition, p.item.offset);
          const sent = this.onStream.get(key);
          if (sent) sent.push(p);
          else this.onStream.set(key, [p]);
        }
        this.call.write({ acks: { acks: chunk.map((p) => p.item) } });
      } else {
        // One after another: a later request may answer the same record again (renew, then accept).
        this.unarySent = this.unarySent.then(() => this.ackUnary(chunk));
      }
    }
  }

  /** One Ack call; the server refuses it whole if one ack is refused, so then each goes alone. */
  private async ackUnary(chunk: PendingAck[]): Promise<void> {
    try {
      const response = await this.runner.run(true, (s) =>
        callUnary<AckResponse__Output>(s.address, this.requestTimeoutMs, (o, done) =>
          s.shares.Ack({ groupId: this.options.group, consumerId: this.consumerId, acks: chunk.map((p) => p.item) }, o, done),
        ),
      );
      response.results.forEach((r, i) => settle(chunk[i], r));
    } catch (err) {
      if (chunk.length > 1 && err instanceof RaftlineError && err.code === status.FAILED_PRECONDITION) {
        await Promise.all(chunk.map((p) => this.ackUnary([p])));
        return;
      }
      for (const p of chunk) p.reject(err);
    }
  }

  /** Keeps the stream's credit near `prefetch` as the loop takes deliveries. */
  private topUp(): void {
    const want = this.prefetch - this.outstanding - this.buffer.length;
    if (this.call && want >= Math.max(1, this.prefetch / 2)) {
      this.outstanding += want;
      this.call.write({ credit: { records: want } });
    }
  }

  private async loop(): Promise<void> {
    await this.ensure().catch((err: unknown) => (this.failure = toRaftlineError(err)));
    const budget = new RetryBudget({ ...this.runner.policy, maxAttempts: Number.MAX_SAFE_INTEGER }, this.runner.clock);
    while (!this.closed && !this.failure) {
      const address = this.runner.pool.target(true);
      try {
        await this.stream(address, () => budget.reset());
        if (this.closed) break;
        throw new RaftlineError({ code: status.UNAVAILABLE, message: "the server ended the Receive stream", address });
      } catch (thrown) {
        this.call = undefined;
        this.outstanding = 0;
        this.resendStreamAcks();
        if (this.closed) break;
        const err = toRaftlineError(thrown, address);
        this.runner.pool.noteError(err);
        const waitMs = budget.next(err);
        if (waitMs === undefined) {
          this.failure = err;
          break;
        }
        if (waitMs > 0) await this.runner.clock.sleep(waitMs);
      }
    }
    this.wake?.();
  }

  /**
   * Acks sent on a stream that broke before answering: sent again through the Ack rpc. The first may
   * have landed, so a refusal of the second leaves the outcome unknown (an ACCEPT that landed is
   * answered RECORD_NOT_ACQUIRED the second time).
   */
  private resendStreamAcks(): void {
    const pending = [...this.onStream.values()].flat();
    this.onStream.clear();
    for (const p of pending) {
      const reject = p.reject;
      p.reject = (err) => {
        const e = toRaftlineError(err);
        reject(new RaftlineError({ code: e.code, reason: e.reason, message: `${e.message} (sent twice: the first may have taken effect)`, outcomeUnknown: true }));
      };
    }
    if (pending.length > 0) void this.ackUnary(pending);
  }

  private stream(address: string, progressed: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const call = this.runner.pool.stubs(address).shares.Receive();
      this.call = call;
      call.on("data", (res: ReceiveResponse__Output) => {
        progressed();
        if (res.deliveries) {
          this.outstanding -= res.deliveries.deliveries.length;
          for (const d of res.deliveries.deliveries) this.buffer.push(new QueueDelivery(d, (item) => this.answer(item)));
          this.wake?.();
        } else if (res.ackResults) {
          for (const r of res.ackResults.results) {
            const key = keyOf(r.partition, r.offset);
            const sent = this.onStream.get(key);
            const p = sent?.shift();
            if (sent?.length === 0) this.onStream.delete(key);
            if (p) settle(p, r);
          }
        }
      });
      call.on("error", reject);
      call.on("end", resolve);
      call.write({ open: { groupId: this.options.group, consumerId: this.consumerId } });
      this.topUp();
    });
  }
}

/**
 * Splits answers into requests of at most maxAcksPerRequest, in order, none holding two answers for one
 * record (the server refuses such a request whole): a renew and an accept of one record go one after another.
 */
function ackRequests(answers: PendingAck[]): PendingAck[][] {
  const requests: PendingAck[][] = [];
  let current: PendingAck[] = [];
  let records = new Set<string>();
  for (const p of answers) {
    const key = keyOf(p.item.partition, p.item.offset);
    if (current.length === maxAcksPerRequest || records.has(key)) {
      requests.push(current);
      current = [];
      records = new Set();
    }
    current.push(p);
    records.add(key);
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

function settle(p: PendingAck, r: AckResult__Output): void {
  if (r.error) p.reject(fromErrorStatus(r.error));
  else p.resolve();
}
