// The work-queue promises a chaos run checks: every record of the final log ends done (the share group's
// start offset reached the end of every partition), and a done record that is not in the dead-letter
// topic was accepted; no record is both acknowledged as accepted and dead-lettered, none is dead-lettered
// twice, and every dead letter carries its record byte for byte; a record is delivered again only if its
// acceptance was not acknowledged, and never past the delivery limit; what workers are handed is what
// the log holds.
import { Findings, recordDifference, type TopicLogs } from "./checker";
import { type StoredRecord, type Violation, textOf } from "./model";

/** One record a worker was handed. */
export interface QueueDeliveryObservation {
  partition: number;
  offset: number;
  value: string;
  deliveryCount: number;
}

/** An ACCEPT the cluster answered OK: the acceptance of that delivery is acknowledged. */
export interface AcceptObservation {
  partition: number;
  offset: number;
  deliveryCount: number;
}

const header = (r: StoredRecord, key: string): string | undefined => {
  const h = r.headers.find((x) => x.key === key);
  return h ? textOf(h.value) : undefined;
};

const dlqHeaderPrefix = "raftline-dlq-";

/** The share group's start offset reached the end of every partition of the final log. */
export function queueAllDone(topic: string, reference: TopicLogs, startOffsets: readonly number[]): Violation[] {
  const found = new Findings("queue-lost");
  (reference.get(topic) ?? []).forEach((log, partition) => {
    const end = log.length === 0 ? 0 : log[log.length - 1].offset + 1;
    const start = startOffsets[partition];
    if (start === undefined) found.add(`${topic}/${partition}: the share group's state was never read`);
    else if (start !== end) found.add(`${topic}/${partition}: share start offset ${start}, log end ${end}: records neither accepted nor dead-lettered`);
  });
  return found.list();
}

/** Dead letters: each once, each a byte-for-byte copy of its record plus the dead-letter headers, each within the limit. */
export function queueDeadLetters(topic: string, reference: TopicLogs, deadLetters: readonly StoredRecord[], deliveryLimit: number): Violation[] {
  const copies = new Findings("queue-dead-letter-copy");
  const twice = new Findings("queue-dead-letter-twice");
  const seen = new Set<string>();
  for (const dead of deadLetters) {
    const key = `${header(dead, "raftline-dlq-source-partition")}/${header(dead, "raftline-dlq-source-offset")}`;
    if (header(dead, "raftline-dlq-source-topic") !== topic) continue;
    if (seen.has(key)) twice.add(`${topic}/${key} dead-lettered twice (again at dead-letter offset ${dead.offset})`);
    seen.add(key);
    const [partition, offset] = key.split("/").map(Number);
    const source = reference.get(topic)?.[partition]?.find((r) => r.offset === offset);
    if (!source) {
      copies.add(`dead letter at ${dead.offset} names ${topic}/${key}, which the log does not hold`);
      continue;
    }
    const stripped: StoredRecord = { ...dead, offset: source.offset, headers: dead.headers.filter((h) => !h.key.startsWith(dlqHeaderPrefix)) };
    const diff = recordDifference(source, stripped);
    if (diff) copies.add(`dead letter of ${topic}/${key} differs from the record: ${diff}`);
    const count = Number(header(dead, "raftline-dlq-delivery-count"));
    const reason = header(dead, "raftline-dlq-reason") ?? "";
    if (count > deliveryLimit || (reason === "delivery limit" && count !== deliveryLimit)) {
      copies.add(`dead letter of ${topic}/${key}: delivery count ${count}, reason "${reason}", limit ${deliveryLimit}`);
    }
  }
  return [...copies.list(), ...twice.list()];
}

/** No record both acknowledged as accepted and dead-lettered. */
export function queueNoneBoth(topic: string, accepted: readonly AcceptObservation[], deadLetters: readonly StoredRecord[]): Violation[] {
  const found = new Findings("queue-accepted-and-dead");
  const dead = new Set(deadLetters.filter((d) => header(d, "raftline-dlq-source-topic") === topic).map((d) => `${header(d, "raftline-dlq-source-partition")}/${header(d, "raftline-dlq-source-offset")}`));
  for (const a of accepted) if (dead.has(`${a.partition}/${a.offset}`)) found.add(`${topic}/${a.partition}/${a.offset} was accepted (acknowledged) and dead-lettered`);
  return found.list();
}

/**
 * Deliveries: what the log holds; never past the limit; never after an acknowledged acceptance. Delivery
 * counts order a record's deliveries exactly, so "after" needs no clocks: a delivery numbered above the
 * accepted one came from an acquisition after the acceptance.
 */
export function queueDeliveries(topic: string, reference: TopicLogs, deliveries: readonly QueueDeliveryObservation[], accepted: readonly AcceptObservation[], deliveryLimit: number): Violation[] {
  const wrong = new Findings("queue-wrong-record");
  const overLimit = new Findings("queue-over-limit");
  const again = new Findings("queue-redelivered-after-accept");
  const acceptedAt = new Map(accepted.map((a) => [`${a.partition}/${a.offset}`, a.deliveryCount]));
  for (const d of deliveries) {
    const key = `${d.partition}/${d.offset}`;
    const source = reference.get(topic)?.[d.partition]?.find((r) => r.offset === d.offset);
    if (!source || textOf(source.value) !== d.value) wrong.add(`${topic}/${key}: handed "${d.value}", the log holds "${source ? textOf(source.value) : "nothing"}"`);
    if (d.deliveryCount > deliveryLimit) overLimit.add(`${topic}/${key} delivered ${d.deliveryCount} times, limit ${deliveryLimit}`);
    const acceptedCount = acceptedAt.get(key);
    if (acceptedCount !== undefined && d.deliveryCount > acceptedCount) {
      again.add(`${topic}/${key} delivered (count ${d.deliveryCount}) after its acceptance of delivery ${acceptedCount} was acknowledged`);
    }
  }
  return [...wrong.list(), ...overLimit.list(), ...again.list()];
}
