// A run's history: every send attempt with its outcome, every fault with its timings, and whatever else
// workloads and the nemesis note, kept in memory for the checker and written as JSON lines to a file that
// outlives the run, so that a failure can be studied and its seed replayed. Times are milliseconds since
// the run began (a monotonic clock); the first line records the wall-clock start.
import { closeSync, openSync, writeSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { FaultKind, FaultRecord, SendOp } from "./model";

/** Lines held in memory before they are appended to the file (one synchronous write per flush). */
export const maxBufferedLines = 2000;

export type SendFields = Omit<SendOp, "invokedAtMs" | "outcome">;

export class History {
  readonly sends: SendOp[] = [];
  readonly faults: FaultRecord[] = [];
  private readonly startMs = performance.now();
  private lines: string[] = [];
  private fd: number | undefined;
  /** The latest send (by invocation time) that has been acknowledged; -Infinity before any. */
  private latestAckedInvocation = -Infinity;

  constructor(
    readonly path: string,
    header: Record<string, unknown>,
  ) {
    this.fd = openSync(path, "w");
    this.write({ type: "run", startedAt: new Date().toISOString(), ...header });
  }

  nowMs(): number {
    return Math.round((performance.now() - this.startMs) * 10) / 10;
  }

  invoke(fields: SendFields): SendOp {
    const op: SendOp = { ...fields, invokedAtMs: this.nowMs(), outcome: { kind: "pending" } };
    this.sends.push(op);
    this.write({ type: "invoke", t: op.invokedAtMs, producer: op.producer, topic: op.topic, partition: op.partition, value: op.value });
    return op;
  }

  acked(op: SendOp, offset: number): void {
    const t = this.nowMs();
    op.outcome = { kind: "acked", offset, ackedAtMs: t };
    this.latestAckedInvocation = Math.max(this.latestAckedInvocation, op.invokedAtMs);
    this.write({ type: "ack", t, value: op.value, offset });
  }

  failed(op: SendOp, error: string, certain = false): void {
    const t = this.nowMs();
    op.outcome = { kind: "failed", atMs: t, error, certain };
    this.write({ type: "fail", t, value: op.value, error, certain });
  }

  /** True once a record sent at or after `sinceMs` has been acknowledged. */
  ackedSentSince(sinceMs: number): boolean {
    return this.latestAckedInvocation >= sinceMs;
  }

  faultInjected(kind: FaultKind, targets: number[], details: Record<string, unknown>, role?: FaultRecord["role"]): FaultRecord {
    const t = this.nowMs();
    const fault: FaultRecord = { kind, targets, injectedAtMs: t, healedAtMs: NaN, recoveredAtMs: NaN, ...(role ? { role } : {}) };
    this.faults.push(fault);
    this.write({ type: "fault", t, kind, targets, role, ...details });
    this.flush();
    return fault;
  }

  faultHealed(fault: FaultRecord): void {
    fault.healedAtMs = this.nowMs();
    this.write({ type: "heal", t: fault.healedAtMs, kind: fault.kind, targets: fault.targets });
  }

  faultRecovered(fault: FaultRecord): void {
    fault.recoveredAtMs = this.nowMs();
    this.write({ type: "recovered", t: fault.recoveredAtMs, kind: fault.kind, afterMs: fault.recoveredAtMs - fault.injectedAtMs });
    this.flush();
  }

  /** Anything else worth studying later: subscriber deliveries and errors, nemesis steps, the report. */
  note(type: string, fields: Record<string, unknown>): void {
    this.write({ type, t: this.nowMs(), ...fields });
  }

  flush(): void {
    if (this.fd === undefined || this.lines.length === 0) return;
    writeSync(this.fd, this.lines.join(""));
    this.lines = [];
  }

  close(): void {
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private write(line: Record<string, unknown>): void {
    if (this.fd === undefined) return;
    this.lines.push(`${JSON.stringify(line)}\n`);
    if (this.lines.length >= maxBufferedLines) this.flush();
  }
}
