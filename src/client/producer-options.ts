// The producer's knobs, each a bound with its unit, and their defaults.
import type { Acks } from "../generated/raftline/v1/Acks";
import type { RetryPolicy } from "./retry";
import { maxInFlightPerPartitionCeiling } from "./sequence-lanes";

export type AcksMode = "quorum" | "leader" | "none";

export interface ProducerOptions {
  /** When a send is answered (see Acks in records.proto); "quorum" (the default) is the only one with offsets. */
  acks?: AcksMode;
  /** How long a batch waits for more records before it leaves. */
  lingerMs?: number;
  maxBatchRecords?: number;
  maxBatchBytes?: number;
  /** Requests sent on the stream and not yet answered. */
  maxInFlight?: number;
  /** Records accepted by send() and not yet answered; further sends wait for room. */
  maxBufferedRecords?: number;
  /** A request unanswered this long breaks the stream and fails with DEADLINE_EXCEEDED (retried). */
  requestTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /**
   * Exactly-once appends per partition: retries resend the same batch with the same sequence, and the
   * broker appends it once and in order. Needs acks "quorum". Sends without a partition are placed by
   * the SDK (key hash as the broker does, keyless records round-robin per send); see README.
   */
  idempotent?: boolean;
  /** Idempotent only: unacknowledged requests per partition, 1..5 (default 5, the broker's memory). */
  maxInFlightPerPartition?: number;
  /**
   * Idempotent only: take over this producer id (bumping its epoch, which fences any other instance
   * still using it) instead of getting a new one.
   */
  producerId?: number;
}

export interface ProducerLimits {
  acks: Acks;
  lingerMs: number;
  maxBatchRecords: number;
  maxBatchBytes: number;
  maxInFlight: number;
  maxBufferedRecords: number;
  requestTimeoutMs: number;
  idempotent: boolean;
  maxInFlightPerPartition: number;
}

export const defaultProducerLimits = {
  lingerMs: 5,
  maxBatchRecords: 1000,
  maxBatchBytes: 1024 * 1024,
  maxInFlight: 8,
  maxBufferedRecords: 100_000,
  requestTimeoutMs: 30000,
  maxInFlightPerPartition: maxInFlightPerPartitionCeiling,
} as const;

const acksOf: Record<AcksMode, Acks> = { quorum: "ACKS_QUORUM", leader: "ACKS_LEADER", none: "ACKS_NONE" };

export function resolveProducerLimits(o: ProducerOptions): ProducerLimits {
  const limits: ProducerLimits = {
    acks: acksOf[o.acks ?? "quorum"],
    lingerMs: o.lingerMs ?? defaultProducerLimits.lingerMs,
    maxBatchRecords: o.maxBatchRecords ?? defaultProducerLimits.maxBatchRecords,
    maxBatchBytes: o.maxBatchBytes ?? defaultProducerLimits.maxBatchBytes,
    maxInFlight: o.maxInFlight ?? defaultProducerLimits.maxInFlight,
    maxBufferedRecords: o.maxBufferedRecords ?? defaultProducerLimits.maxBufferedRecords,
    requestTimeoutMs: o.requestTimeoutMs ?? defaultProducerLimits.requestTimeoutMs,
    idempotent: o.idempotent ?? false,
    maxInFlightPerPartition: o.maxInFlightPerPartition ?? defaultProducerLimits.maxInFlightPerPartition,
  };
  if (limits.acks === undefined) throw new RangeError(`acks must be "quorum", "leader" or "none"`);
  if (limits.idempotent && limits.acks !== "ACKS_QUORUM") {
    throw new RangeError(`an idempotent producer needs acks "quorum": only then does it learn whether a batch was appended`);
  }
  if (!Number.isInteger(limits.maxInFlightPerPartition) || limits.maxInFlightPerPartition > maxInFlightPerPartitionCeiling) {
    throw new RangeError(`maxInFlightPerPartition must be an integer in 1..${maxInFlightPerPartitionCeiling}`);
  }
  if (o.producerId !== undefined && !(limits.idempotent && Number.isSafeInteger(o.producerId) && o.producerId > 0)) {
    throw new RangeError("producerId needs idempotent: true and a positive integer");
  }
  for (const [name, value] of Object.entries(limits)) {
    if (typeof value === "number" && !(Number.isFinite(value) && value >= (name === "lingerMs" ? 0 : 1))) {
      throw new RangeError(`producer option ${name} is out of range: ${value}`);
    }
  }
  return limits;
}
