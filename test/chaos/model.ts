// The chaos suite's shared vocabulary: what a run records (send attempts and their outcomes, faults),
// what it reads back from the cluster at the end, and what a check reports. Workloads, the checker and
// the report all speak in these terms, so a fabricated history can stand in for a real run.

/** Every fault the nemesis knows. Each one is healed before the next begins. */
export const faultKinds = [
  "kill-leader",
  "kill-follower",
  "pause-node",
  "isolate-leader",
  "wipe-follower",
  "restart-all",
  // Membership faults (membership-faults.ts): any node wiped and replaced; a member removed and added back.
  "wipe-node",
  "remove-add-node",
] as const;
export type FaultKind = (typeof faultKinds)[number];

export type SendOutcome =
  | { kind: "pending" }
  | { kind: "acked"; offset: number; ackedAtMs: number }
  /**
   * Not acknowledged. `certain`: the answer said the records were certainly not appended (see "Did my
   * write happen?" in errors.proto), so they must never show up; otherwise they may or may not have been.
   */
  | { kind: "failed"; atMs: number; error: string; certain?: boolean };

/** One attempt to append one record, from the moment send() was called. */
export interface SendOp {
  /** The record's value: unique in the run and traceable to this attempt (see sendValue). */
  readonly value: string;
  readonly producer: string;
  /** Exactly-once producers: every record appears at most once, and acked ones exactly once. */
  readonly idempotent: boolean;
  /** Producers whose records must land in the order they were sent (idempotent, or one in flight). */
  readonly ordered: boolean;
  readonly topic: string;
  readonly partition: number;
  /** The producer's own counter, increasing in send order. */
  readonly seq: number;
  readonly invokedAtMs: number;
  outcome: SendOutcome;
}

/** A record as one node stores and serves it. */
export interface StoredRecord {
  offset: number;
  timestampMs: number;
  key?: Uint8Array;
  value: Uint8Array;
  headers: { key: string; value: Uint8Array }[];
}

/** One node's copy of every partition of one topic, read after the cluster converged. */
export interface NodeLog {
  node: number;
  topic: string;
  /** Indexed by partition. */
  partitions: StoredRecord[][];
}

/** What one subscriber was handed, in delivery order. */
export interface SubscriberView {
  subscriber: string;
  topic: string;
  partition: number;
  records: { offset: number; value: string }[];
}

export interface FaultRecord {
  kind: FaultKind;
  /** For a pause, whether it hit the leader or a follower: their unavailability differs completely. */
  role?: "leader" | "follower";
  /** Node ids the fault hit. */
  targets: number[];
  injectedAtMs: number;
  healedAtMs: number;
  /** When the cluster had a leader again, took writes, and every node had caught up. */
  recoveredAtMs: number;
}

/** How reports name a fault: its kind, and for a pause the role it hit. */
export function faultLabel(f: Pick<FaultRecord, "kind" | "role">): string {
  return f.role ? `${f.kind} (${f.role})` : f.kind;
}

export type CheckName =
  | "lost-ack"
  | "duplicate"
  | "phantom"
  | "order"
  | "dense-offsets"
  | "identical-logs"
  | "subscriber-prefix"
  | "group-at-least-once"
  | "group-commit-backwards"
  | "group-two-owners"
  | "queue-lost"
  | "queue-dead-letter-copy"
  | "queue-dead-letter-twice"
  | "queue-accepted-and-dead"
  | "queue-redelivered-after-accept"
  | "queue-over-limit"
  | "queue-wrong-record"
  | "refused-appended"
  | "create-retry"
  | "leader-per-term"
  | "liveness";

export interface Violation {
  check: CheckName;
  message: string;
}

const valuePrefix = "chaos";

/** A record value no other attempt in the run shares: producer name and its send counter. */
export function sendValue(producer: string, seq: number): string {
  return `${valuePrefix}:${producer}:${seq}`;
}

/** The attempt a value names, or undefined for a value no chaos producer could have written. */
export function parseSendValue(value: string): { producer: string; seq: number } | undefined {
  const m = /^chaos:([A-Za-z0-9_.-]+):(\d+)$/.exec(value);
  return m ? { producer: m[1], seq: Number(m[2]) } : undefined;
}

export function textOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
}
