// The producer's knobs, each a bound with its unit, and their defaults.
import type { Acks } from "../generated/raftline/v1/Acks";
import type { RetryPolicy } from "./retry";

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
}

export interface ProducerLimits {
  acks: Acks;
  lingerMs: number;
  maxBatchRecords: number;
  maxBatchBytes: number;
  maxInFlight: number;
  maxBufferedRecords: number;
  requestTimeoutMs: number;
}

export const defaultProducerLimits = {
  lingerMs: 5,
  maxBatchRecords: 1000,
  maxBatchBytes: 1024 * 1024,
  maxInFlight: 8,
  maxBufferedRecords: 100_000,
  requestTimeoutMs: 30000,
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
  };
  if (limits.acks === undefined) throw new RangeError(`acks must be "quorum", "leader" or "none"`);
  for (const [name, value] of Object.entries(limits)) {
    if (typeof value === "number" && !(Number.isFinite(value) && value >= (name === "lingerMs" ? 0 : 1))) {
      throw new RangeError(`producer option ${name} is out of range: ${value}`);
    }
  }
  return limits;
}
