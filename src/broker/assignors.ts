// Partition assignors: who should own which partition, given the members (in member id order), what each
// subscribes to and owns now, and each topic's partition count. Pure and deterministic: every node
// computes the same target from the same state.
import type { TopicPartition } from "./group-commands";

export const assignorNames = ["cooperative-sticky", "range", "round-robin"] as const;
export type AssignorName = (typeof assignorNames)[number];
export const defaultAssignor: AssignorName = "cooperative-sticky";

export function isAssignorName(name: string): name is AssignorName {
  return (assignorNames as readonly string[]).includes(name);
}

export interface AssignorMember {
  memberId: string;
  topics: readonly string[];
  owned: readonly TopicPartition[];
}

/** member id -> target partitions, ordered by (topic, partition). */
export type Assignment = Map<string, TopicPartition[]>;

export function tpKey(tp: TopicPartition): string {
  return `${tp.topic}/${tp.partition}`;
}

export function compareTp(a: TopicPartition, b: TopicPartition): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  return a.partition - b.partition;
}

function byMemberId(a: AssignorMember, b: AssignorMember): number {
  return a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0;
}

/** Every partition of the subscribed topics that exist, ordered. */
function allPartitions(members: readonly AssignorMember[], partitionsOf: (topic: string) => number): TopicPartition[] {
  const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
  return topics.flatMap((topic) => Array.from({ length: partitionsOf(topic) }, (_, partition) => ({ topic, partition })));
}

function emptyAssignment(members: readonly AssignorMember[]): Assignment {
  return new Map(members.map((m) => [m.memberId, [] as TopicPartition[]]));
}

function sorted(assignment: Assignment): Assignment {
  for (const list of assignment.values()) list.sort(compareTp);
  return assignment;
}

export function assign(name: AssignorName, unordered: readonly AssignorMember[], partitionsOf: (topic: string) => number): Assignment {
  const members = [...unordered].sort(byMemberId);
  switch (name) {
    case "range":
      return sorted(rangeAssign(members, partitionsOf));
    case "round-robin":
      return sorted(roundRobinAssign(members, partitionsOf));
    case "cooperative-sticky":
      return sorted(stickyAssign(members, partitionsOf));
  }
}

/** Per topic, its subscribers get contiguous ranges; the first ones get one more when it does not divide. */
function rangeAssign(members: AssignorMember[], partitionsOf: (topic: string) => number): Assignment {
  const out = emptyAssignment(members);
  const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
  for (const topic of topics) {
    const subscribers = members.filter((m) => m.topics.includes(topic));
    const count = partitionsOf(topic);
    const base = Math.floor(count / subscribers.length);
    const extra = count % subscribers.length;
    let next = 0;
    subscribers.forEach((m, i) => {
      const take = base + (i < extra ? 1 : 0);
      for (let k = 0; k < take; k++) (out.get(m.memberId) as TopicPartition[]).push({ topic, partition: next++ });
    });
  }
  return out;
}

/** All partitions in order, dealt to the members in turn (skipping members not subscribed to the topic). */
function roundRobinAssign(members: AssignorMember[], partitionsOf: (topic: string) => number): Assignment {
  const out = emptyAssignment(members);
  let turn = 0;
  for (const tp of allPartitions(members, partitionsOf)) {
    for (let tried = 0; tried < members.length; tried++) {
      const m = members[(turn + tried) % members.length];
      if (m.topics.includes(tp.topic)) {
        (out.get(m.memberId) as TopicPartition[]).push(tp);
        turn = (turn + tried + 1) % members.length;
        break;
      }
    }
  }
  return out;
}

/**
 * Balanced, and moving as little as possible: each member keeps what it owns up to its fair share
 * (members that own more get the larger shares first), then the remaining partitions go one by one to
 * the eligible member with the fewest. With one subscription for all members the counts differ by at most
 * one; with different subscriptions each partition still goes to one of its topic's subscribers.
 */
function stickyAssign(members: AssignorMember[], partitionsOf: (topic: string) => number): Assignment {
  const out = emptyAssignment(members);
  if (members.length === 0) return out;
  const partitions = allPartitions(members, partitionsOf);
  const exists = new Set(partitions.map(tpKey));
  const base = Math.floor(partitions.length / members.length);
  let larger = partitions.length % members.length;
  const byOwned = [...members].sort((a, b) => b.owned.length - a.owned.length || byMemberId(a, b));
  const quota = new Map<string, number>();
  for (const m of byOwned) {
    const extra = larger > 0 && m.owned.length > base ? 1 : 0;
    larger -= extra;
    quota.set(m.memberId, base + extra);
  }
  // Shares not yet handed out (a member owning less than base+1 did not claim one) go by member id.
  for (const m of members) {
    if (larger === 0) break;
    if (quota.get(m.memberId) === base) {
      quota.set(m.memberId, base + 1);
      larger--;
    }
  }
  const taken = new Set<string>();
  for (const m of members) {
    const keep = [...m.owned].filter((tp) => exists.has(tpKey(tp)) && m.topics.includes(tp.topic) && !taken.has(tpKey(tp))).sort(compareTp);
    const list = out.get(m.memberId) as TopicPartition[];
    for (const tp of keep.slice(0, quota.get(m.memberId))) {
      list.push(tp);
      taken.add(tpKey(tp));
    }
  }
  for (const tp of partitions) {
    if (taken.has(tpKey(tp))) continue;
    let best: AssignorMember | undefined;
    let bestLoad = Infinity;
    for (const m of members) {
      if (!m.topics.includes(tp.topic)) continue;
      const list = out.get(m.memberId) as TopicPartition[];
      const load = list.length - (quota.get(m.memberId) as number);
      if (load < bestLoad) {
        best = m;
        bestLoad = load;
      }
    }
    if (best) {
      (out.get(best.memberId) as TopicPartition[]).push(tp);
      taken.add(tpKey(tp));
    }
  }
  return out;
}
