// One record handed to a work-queue consumer, held under a lock until it is answered.
import type { Delivery__Output } from "../generated/raftline/v1/Delivery";
import type { ConsumedRecord } from "./records";

export type AckKind = "ACK_TYPE_ACCEPT" | "ACK_TYPE_RELEASE" | "ACK_TYPE_REJECT" | "ACK_TYPE_RENEW";

export interface AckRequestItem {
  partition: number;
  offset: number;
  type: AckKind;
  delayMs: number;
  reason: string;
}

/** Sends one answer for a delivery; resolves once it took effect. */
export type AckSender = (item: AckRequestItem) => Promise<void>;

export class QueueDelivery implements ConsumedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestampMs: number;
  readonly key?: Buffer;
  readonly value: Buffer;
  readonly headers: { key: string; value: Buffer }[];
  /** 1 the first time the record is delivered. */
  readonly deliveryCount: number;
  /** When the lock runs out (the leader's clock, ms since the Unix epoch); renew() extends it. */
  readonly lockExpiresAtMs: number;

  constructor(
    wire: Delivery__Output,
    private readonly send: AckSender,
  ) {
    const r = wire.record;
    this.topic = wire.topic;
    this.partition = wire.partition;
    this.offset = r?.offset ?? 0;
    this.timestampMs = r?.timestampMs ?? 0;
    if (r?.key) this.key = r.key;
    this.value = r?.value ?? Buffer.alloc(0);
    this.headers = r?.headers ?? [];
    this.deliveryCount = wire.deliveryCount;
    this.lockExpiresAtMs = wire.lockExpiresAtMs;
  }

  /** Done: it is never delivered again. */
  ack(): Promise<void> {
    return this.answer("ACK_TYPE_ACCEPT");
  }

  /** Give it back: delivered again after `delayMs` (or the group's backoff, if longer). */
  release(options: { delayMs?: number } = {}): Promise<void> {
    return this.answer("ACK_TYPE_RELEASE", options.delayMs ?? 0);
  }

  /** Poison: moved to the group's dead-letter topic now, with `reason` in its headers. */
  reject(reason = ""): Promise<void> {
    return this.answer("ACK_TYPE_REJECT", 0, reason);
  }

  /** Keep it: the lock runs for another lock timeout from now. */
  renew(): Promise<void> {
    return this.answer("ACK_TYPE_RENEW");
  }

  private answer(type: AckKind, delayMs = 0, reason = ""): Promise<void> {
    return this.send({ partition: this.partition, offset: this.offset, type, delayMs, reason });
  }
}
