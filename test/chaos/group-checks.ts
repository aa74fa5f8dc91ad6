// The consumer-group promises a chaos run checks: every record of the final log was consumed by some
// member at least once (and what it was handed is what the log holds), no committed offset ever went
// back, and no two members owned one partition in the same generation.
import { Findings, type TopicLogs } from "./checker";
import { type Violation, textOf } from "./model";

/** What members were handed, per partition: offset -> value. */
export type Consumed = Map<number, Map<number, string>>;

/** One committed offset as a FetchOffsets poll saw it, in the order the polls were made. */
export interface CommitObservation {
  partition: number;
  offset: number;
  atMs: number;
}

/** One assignment a member was pushed: what it owned (reading or being revoked) in that generation. */
export interface OwnershipObservation {
  member: string;
  generation: number;
  partitions: number[];
}

export function groupConsumedAll(topic: string, consumed: Consumed, reference: TopicLogs): Violation[] {
  const found = new Findings("group-at-least-once");
  (reference.get(topic) ?? []).forEach((log, partition) => {
    const got = consumed.get(partition) ?? new Map<number, string>();
    let missing = 0;
    let first = -1;
    for (const record of log) {
      const value = got.get(record.offset);
      if (value === undefined) {
        missing++;
        if (first < 0) first = record.offset;
      } else if (value !== textOf(record.value)) {
        found.add(`${topic}/${partition} offset ${record.offset}: consumed "${value}" but the log holds "${textOf(record.value)}"`);
      }
    }
    if (missing > 0) found.add(`${topic}/${partition}: ${missing} of ${log.length} records never consumed by any member (first at offset ${first})`);
  });
  return found.list();
}

export function committedNeverBackwards(topic: string, observations: readonly CommitObservation[]): Violation[] {
  const found = new Findings("group-commit-backwards");
  const last = new Map<number, CommitObservation>();
  for (const o of observations) {
    const before = last.get(o.partition);
    if (before && o.offset < before.offset) {
      found.add(`${topic}/${o.partition}: committed offset ${o.offset} at t=${Math.round(o.atMs)} after ${before.offset} at t=${Math.round(before.atMs)}`);
    }
    if (!before || o.offset >= before.offset) last.set(o.partition, o);
  }
  return found.list();
}

export function oneOwnerPerGeneration(topic: string, observations: readonly OwnershipObservation[]): Violation[] {
  const found = new Findings("group-two-owners");
  const owners = new Map<string, string>();
  for (const o of observations) {
    for (const p of o.partitions) {
      const key = `${o.generation}/${p}`;
      const other = owners.get(key);
      if (other !== undefined && other !== o.member) {
        found.add(`${topic}/${p} owned by both ${other} and ${o.member} in generation ${o.generation}`);
      }
      owners.set(key, o.member);
    }
  }
  return found.list();
}
