// How long each fault kept writes from succeeding: from the moment it was injected to the first
// acknowledgement of a record sent after that moment, by any producer. Sends issued before the fault
// are left out on purpose: their answers may already have been on the way when the fault hit.
import { FaultRecord, SendOp, faultLabel } from "./model";

export interface UnavailabilityWindow {
  /** See faultLabel. */
  label: string;
  injectedAtMs: number;
  /** Undefined when no record sent after the fault was ever acknowledged. */
  windowMs: number | undefined;
}

export interface Distribution {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function unavailabilityWindows(faults: readonly FaultRecord[], sends: readonly SendOp[]): UnavailabilityWindow[] {
  const acks = sends
    .flatMap((op) => (op.outcome.kind === "acked" ? [{ invokedAtMs: op.invokedAtMs, ackedAtMs: op.outcome.ackedAtMs }] : []))
    .sort((a, b) => a.ackedAtMs - b.ackedAtMs);
  return faults.map((fault) => {
    // Acks come sorted by time; the first one sent after the fault is the answer.
    const first = acks.find((a) => a.invokedAtMs >= fault.injectedAtMs);
    return { label: faultLabel(fault), injectedAtMs: fault.injectedAtMs, windowMs: first ? first.ackedAtMs - fault.injectedAtMs : undefined };
  });
}

/** Nearest-rank percentile (p in (0, 100]) of a non-empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError("percentile of an empty list");
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function distribution(values: readonly number[]): Distribution | undefined {
  if (values.length === 0) return undefined;
  return { count: values.length, p50: percentile(values, 50), p99: percentile(values, 99), max: Math.max(...values) };
}
