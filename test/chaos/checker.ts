// The promises a chaos run must keep, as pure functions over what the run recorded (send attempts and
// their outcomes, subscriber deliveries) and what every node holds once the cluster has converged. Each
// check returns its violations; checkRun runs them all and counts what a report needs. Fabricated inputs
// (checker.test.ts) plant each bug to prove the matching check catches it.
import {
  CheckName,
  NodeLog,
  SendOp,
  StoredRecord,
  SubscriberView,
  Violation,
  parseSendValue,
  textOf,
} from "./model";

/** Messages kept per check; the rest are counted, so a badly broken run still prints a readable report. */
export const maxMessagesPerCheck = 20;

export interface CheckStats {
  /** Send attempts answered with an offset. */
  acked: number;
  /** Acked records missing from their acknowledged offset. */
  lost: number;
  /** Extra copies of records from idempotent producers (must be 0). */
  duplicatedIdempotent: number;
  /** Extra copies of records from plain producers (allowed: at-least-once after retries). */
  duplicatedPlain: number;
  /** Records no send attempt explains. */
  phantoms: number;
  /** Attempts that failed or were abandoned, yet their record was appended. */
  unackedAppended: number;
  /** Records in the final log, all partitions. */
  records: number;
}

export interface CheckInput {
  sends: readonly SendOp[];
  /** Every node's copy of every topic the run wrote. */
  logs: readonly NodeLog[];
  subscribers: readonly SubscriberView[];
}

export interface CheckOutcome {
  violations: Violation[];
  stats: CheckStats;
}

/** Collects one check's violations, keeping the first few messages and counting the rest. */
export class Findings {
  private readonly kept: Violation[] = [];
  private dropped = 0;

  constructor(private readonly check: CheckName) {}

  add(message: string): void {
    if (this.kept.length < maxMessagesPerCheck) this.kept.push({ check: this.check, message });
    else this.dropped++;
  }

  get count(): number {
    return this.kept.length + this.dropped;
  }

  list(): Violation[] {
    if (this.dropped === 0) return this.kept;
    return [...this.kept, { check: this.check, message: `... and ${this.dropped} more` }];
  }
}

/** A topic's partitions as one node holds them: the reference the other checks read. */
export type TopicLogs = ReadonlyMap<string, readonly StoredRecord[][]>;

/** The first node's copy of each topic: once identicalLogs passes, every node's copy. */
export function referenceLogs(logs: readonly NodeLog[]): TopicLogs {
  const out = new Map<string, StoredRecord[][]>();
  for (const log of logs) if (!out.has(log.topic)) out.set(log.topic, log.partitions);
  return out;
}

function bytesEqual(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** Why two copies of a record differ, or undefined when they are byte-identical. */
export function recordDifference(a: StoredRecord, b: StoredRecord): string | undefined {
  if (a.offset !== b.offset) return `offset ${a.offset} vs ${b.offset}`;
  if (a.timestampMs !== b.timestampMs) return `timestamp ${a.timestampMs} vs ${b.timestampMs}`;
  if (!bytesEqual(a.key, b.key)) return "key";
  if (!bytesEqual(a.value, b.value)) return `value "${textOf(a.value)}" vs "${textOf(b.value)}"`;
  if (a.headers.length !== b.headers.length) return `${a.headers.length} vs ${b.headers.length} headers`;
  for (let i = 0; i < a.headers.length; i++) {
    if (a.headers[i].key !== b.headers[i].key || !bytesEqual(a.headers[i].value, b.headers[i].value)) return `header ${i}`;
  }
  return undefined;
}

/** Every node holds the same records, byte for byte, up to the same high watermark. */
export function identicalLogs(logs: readonly NodeLog[]): Violation[] {
  const found = new Findings("identical-logs");
  const byTopic = new Map<string, NodeLog[]>();
  for (const log of logs) byTopic.set(log.topic, [...(byTopic.get(log.topic) ?? []), log]);
  for (const [topic, copies] of byTopic) {
    const [first, ...others] = copies;
    for (const other of others) {
      const partitions = Math.max(first.partitions.length, other.partitions.length);
      for (let p = 0; p < partitions; p++) {
        const a = first.partitions[p] ?? [];
        const b = other.partitions[p] ?? [];
        if (a.length !== b.length) {
          found.add(`${topic}/${p}: node ${first.node} holds ${a.length} records, node ${other.node} holds ${b.length}`);
        }
        const common = Math.min(a.length, b.length);
        for (let i = 0; i < common; i++) {
          const why = recordDifference(a[i], b[i]);
          if (why !== undefined) {
            found.add(`${topic}/${p} record #${i}: nodes ${first.node} and ${other.node} differ (${why})`);
            break;
          }
        }
      }
    }
  }
  return found.list();
}

/** Offsets follow one another with no gap and no repeat, on every node. */
export function denseOffsets(logs: readonly NodeLog[]): Violation[] {
  const found = new Findings("dense-offsets");
  for (const log of logs) {
    log.partitions.forEach((records, p) => {
      const start = records[0]?.offset ?? 0;
      for (let i = 0; i < records.length; i++) {
        if (records[i].offset !== start + i) {
          found.add(`node ${log.node} ${log.topic}/${p}: offset ${records[i].offset} where ${start + i} was due`);
          return;
        }
      }
    });
  }
  return found.list();
}

function recordAt(reference: TopicLogs, topic: string, partition: number, offset: number): StoredRecord | undefined {
  const records = reference.get(topic)?.[partition];
  if (!records || records.length === 0) return undefined;
  return records[offset - records[0].offset];
}

/** Where each value sits in the reference log: topic/partition → value → offsets. */
function placements(reference: TopicLogs): Map<string, Map<string, number[]>> {
  const out = new Map<string, Map<string, number[]>>();
  for (const [topic, partitions] of reference) {
    partitions.forEach((records, p) => {
      const byValue = new Map<string, number[]>();
      for (const r of records) {
        const v = textOf(r.value);
        const at = byValue.get(v);
        if (at) at.push(r.offset);
        else byValue.set(v, [r.offset]);
      }
      out.set(`${topic}/${p}`, byValue);
    });
  }
  return out;
}

/** An acknowledged attempt whose record is not at the offset its answer gave. */
function isLost(op: SendOp, reference: TopicLogs): boolean {
  if (op.outcome.kind !== "acked") return false;
  const record = recordAt(reference, op.topic, op.partition, op.outcome.offset);
  return record === undefined || textOf(record.value) !== op.value;
}

/** Every acknowledged record is at the offset its answer gave. */
export function ackedPresent(sends: readonly SendOp[], reference: TopicLogs): Violation[] {
  const found = new Findings("lost-ack");
  const where = placements(reference);
  for (const op of sends) {
    if (op.outcome.kind !== "acked" || !isLost(op, reference)) continue;
    const elsewhere = where.get(`${op.topic}/${op.partition}`)?.get(op.value);
    const detail = elsewhere ? `found only at offset ${elsewhere.join(", ")}` : "not in the log at all";
    found.add(`${op.value} acked at ${op.topic}/${op.partition} offset ${op.outcome.offset} is missing there (${detail})`);
  }
  return found.list();
}

/** Every record in the log was sent by some attempt, to that partition. */
export function noPhantoms(sends: readonly SendOp[], reference: TopicLogs): Violation[] {
  const found = new Findings("phantom");
  const byValue = new Map(sends.map((op) => [op.value, op]));
  for (const [topic, partitions] of reference) {
    partitions.forEach((records, p) => {
      for (const r of records) {
        const value = textOf(r.value);
        const op = byValue.get(value);
        if (op && op.topic === topic && op.partition === p) continue;
        const why = op ? `sent to ${op.topic}/${op.partition}` : parseSendValue(value) ? "never sent" : "not a value any producer writes";
        found.add(`${topic}/${p} offset ${r.offset} holds "${value}" (${why})`);
      }
    });
  }
  return found.list();
}

/** Idempotent producers' records appear at most once; plain producers' duplicates are only counted. */
export function noIdempotentDuplicates(sends: readonly SendOp[], reference: TopicLogs): Violation[] {
  const found = new Findings("duplicate");
  const where = placements(reference);
  for (const op of sends) {
    if (!op.idempotent) continue;
    const offsets = where.get(`${op.topic}/${op.partition}`)?.get(op.value) ?? [];
    if (offsets.length > 1) found.add(`${op.value} from idempotent ${op.producer} appears ${offsets.length} times, at offsets ${offsets.join(", ")}`);
  }
  return found.list();
}

function byProducerPartition(sends: readonly SendOp[]): Map<string, SendOp[]> {
  const out = new Map<string, SendOp[]>();
  for (const op of sends) {
    const k = `${op.producer} → ${op.topic}/${op.partition}`;
    const list = out.get(k);
    if (list) list.push(op);
    else out.set(k, [op]);
  }
  return out;
}

type Acked = SendOp & { outcome: { kind: "acked"; offset: number; ackedAtMs: number } };

function isAcked(op: SendOp): op is Acked {
  return op.outcome.kind === "acked";
}

/**
 * Per producer and partition: a record acknowledged before another was sent sits at a lower offset (ack
 * order is real-time order). Ordered producers (idempotent, or one request in flight) promise more: their
 * acknowledged offsets increase in send order, and an idempotent producer's records appear in the log in
 * send order.
 */
export function producerOrder(sends: readonly SendOp[], reference: TopicLogs): Violation[] {
  const found = new Findings("order");
  for (const [stream, ops] of byProducerPartition(sends)) {
    const acked = ops.filter(isAcked);
    const byAck = [...acked].sort((a, b) => a.outcome.ackedAtMs - b.outcome.ackedAtMs);
    const byInvoke = [...acked].sort((a, b) => a.invokedAtMs - b.invokedAtMs);
    let k = 0;
    let highest: Acked | undefined;
    for (const later of byInvoke) {
      while (k < byAck.length && byAck[k].outcome.ackedAtMs < later.invokedAtMs) {
        if (!highest || byAck[k].outcome.offset > highest.outcome.offset) highest = byAck[k];
        k++;
      }
      if (highest && highest.outcome.offset >= later.outcome.offset) {
        found.add(`${stream}: ${later.value} sent after ${highest.value} was acked at ${highest.outcome.offset}, but acked at ${later.outcome.offset}`);
      }
    }
    if (!ops[0]?.ordered) continue;
    const bySeq = [...acked].sort((a, b) => a.seq - b.seq);
    for (let i = 1; i < bySeq.length; i++) {
      if (bySeq[i].outcome.offset <= bySeq[i - 1].outcome.offset) {
        found.add(`${stream}: ${bySeq[i].value} acked at ${bySeq[i].outcome.offset}, not after ${bySeq[i - 1].value} at ${bySeq[i - 1].outcome.offset}`);
      }
    }
  }
  for (const v of idempotentLogOrder(sends, reference)) found.add(v);
  return found.list();
}

function idempotentLogOrder(sends: readonly SendOp[], reference: TopicLogs): string[] {
  const idempotent = new Set(sends.filter((op) => op.idempotent).map((op) => op.producer));
  const out: string[] = [];
  for (const [topic, partitions] of reference) {
    partitions.forEach((records, p) => {
      const lastSeq = new Map<string, { seq: number; offset: number }>();
      for (const r of records) {
        const sent = parseSendValue(textOf(r.value));
        if (!sent || !idempotent.has(sent.producer)) continue;
        const last = lastSeq.get(sent.producer);
        if (last && sent.seq <= last.seq) {
          out.push(`${sent.producer} → ${topic}/${p}: seq ${sent.seq} at offset ${r.offset} follows seq ${last.seq} at offset ${last.offset}`);
        }
        lastSeq.set(sent.producer, { seq: sent.seq, offset: r.offset });
      }
    });
  }
  return out;
}

/** What each subscriber was handed is the final log's beginning, in order, with nothing skipped. */
export function subscriberPrefixes(views: readonly SubscriberView[], reference: TopicLogs): Violation[] {
  const found = new Findings("subscriber-prefix");
  for (const view of views) {
    const log = reference.get(view.topic)?.[view.partition] ?? [];
    const start = log[0]?.offset ?? 0;
    for (let i = 0; i < view.records.length; i++) {
      const got = view.records[i];
      const due = start + i;
      const at = log[due - start];
      const name = `${view.subscriber} (${view.topic}/${view.partition})`;
      if (got.offset !== due) {
        found.add(`${name}: delivery #${i} has offset ${got.offset} where ${due} was due`);
        break;
      }
      if (at === undefined || textOf(at.value) !== got.value) {
        const final = at === undefined ? "nothing" : `"${textOf(at.value)}"`;
        found.add(`${name}: offset ${due} delivered "${got.value}" but the final log holds ${final}`);
        break;
      }
    }
  }
  return found.list();
}

function stats(sends: readonly SendOp[], reference: TopicLogs, lost: number): CheckStats {
  const where = placements(reference);
  let duplicatedIdempotent = 0;
  let duplicatedPlain = 0;
  let unackedAppended = 0;
  let acked = 0;
  for (const op of sends) {
    const copies = where.get(`${op.topic}/${op.partition}`)?.get(op.value)?.length ?? 0;
    if (op.outcome.kind === "acked") acked++;
    else if (copies > 0) unackedAppended++;
    if (copies > 1 && op.idempotent) duplicatedIdempotent += copies - 1;
    if (copies > 1 && !op.idempotent) duplicatedPlain += copies - 1;
  }
  const sent = new Set(sends.map((op) => `${op.topic}/${op.partition}/${op.value}`));
  let phantoms = 0;
  let records = 0;
  for (const [topic, partitions] of reference) {
    partitions.forEach((rs, p) => {
      records += rs.length;
      for (const r of rs) if (!sent.has(`${topic}/${p}/${textOf(r.value)}`)) phantoms++;
    });
  }
  return { acked, lost, duplicatedIdempotent, duplicatedPlain, phantoms, unackedAppended, records };
}

/** Every check over one run. */
export function checkRun(input: CheckInput): CheckOutcome {
  const reference = referenceLogs(input.logs);
  const lost = input.sends.filter((op) => isLost(op, reference)).length;
  const violations = [
    ...identicalLogs(input.logs),
    ...denseOffsets(input.logs),
    ...ackedPresent(input.sends, reference),
    ...noPhantoms(input.sends, reference),
    ...noIdempotentDuplicates(input.sends, reference),
    ...producerOrder(input.sends, reference),
    ...subscriberPrefixes(input.subscribers, reference),
  ];
  return { violations, stats: stats(input.sends, reference, lost) };
}
