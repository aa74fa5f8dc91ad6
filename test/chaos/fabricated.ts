// Hand-made histories and logs for the checker's tests: a few records, a few sends, each bug planted
// by hand where a test needs it.
import { NodeLog, SendOp, SendOutcome, StoredRecord, sendValue } from "./model";

export const topic = "t";

export function stored(offset: number, value: string, fields: Partial<StoredRecord> = {}): StoredRecord {
  return {
    offset,
    timestampMs: 1_000 + offset,
    key: Buffer.from("k"),
    value: Buffer.from(value),
    headers: [{ key: "seq", value: Buffer.from(String(offset)) }],
    ...fields,
  };
}

/** A partition holding these values at offsets 0, 1, 2, ... */
export function partitionOf(values: string[]): StoredRecord[] {
  return values.map((v, i) => stored(i, v));
}

/** The same partitions on every listed node (each gets its own copy, to be tampered with). */
export function nodeLogs(nodes: number[], partitions: string[][]): NodeLog[] {
  return nodes.map((node) => ({ node, topic, partitions: partitions.map(partitionOf) }));
}

export interface FabricatedSend {
  producer?: string;
  seq: number;
  partition?: number;
  idempotent?: boolean;
  ordered?: boolean;
  invokedAtMs?: number;
  /** An acknowledged offset (acked at ackedAtMs), "failed", or "pending". */
  offset?: number;
  ackedAtMs?: number;
  failed?: boolean;
  /** With failed: the answer said "certainly not appended". */
  certain?: boolean;
}

export function send(s: FabricatedSend): SendOp {
  const producer = s.producer ?? "p";
  const invokedAtMs = s.invokedAtMs ?? s.seq * 10;
  let outcome: SendOutcome = { kind: "pending" };
  if (s.offset !== undefined) outcome = { kind: "acked", offset: s.offset, ackedAtMs: s.ackedAtMs ?? invokedAtMs + 5 };
  else if (s.failed) outcome = { kind: "failed", atMs: invokedAtMs + 5, error: "UNAVAILABLE", certain: s.certain ?? false };
  return {
    value: sendValue(producer, s.seq),
    producer,
    idempotent: s.idempotent ?? false,
    ordered: s.ordered ?? s.idempotent ?? false,
    topic,
    partition: s.partition ?? 0,
    seq: s.seq,
    invokedAtMs,
    outcome,
  };
}

/** `count` sends of one producer to partition 0, each acknowledged at offset = seq. */
export function ackedInOrder(count: number, s: Omit<FabricatedSend, "seq" | "offset"> = {}): SendOp[] {
  return Array.from({ length: count }, (_, seq) => send({ ...s, seq, offset: seq }));
}

export function valuesOf(sends: SendOp[]): string[] {
  return sends.map((op) => op.value);
}
