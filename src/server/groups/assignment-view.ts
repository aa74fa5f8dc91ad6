// A member's assignment as the Join stream pushes it, from the replicated group record.
import { assignedOf, revokingOf, type GroupMemberRecord, type TopicPartition } from "../../broker";
import type { JoinResponse } from "../../generated/raftline/v1/JoinResponse";
import type { TopicPartitions } from "../../generated/raftline/v1/TopicPartitions";

/** Heartbeats per session timeout: three, like Kafka's heartbeat.interval.ms default against session.timeout.ms. */
export const heartbeatsPerSession = 3;

export function byTopic(tps: readonly TopicPartition[]): TopicPartitions[] {
  const out: TopicPartitions[] = [];
  for (const tp of tps) {
    const last = out[out.length - 1];
    if (last && last.topic === tp.topic) (last.partitions as number[]).push(tp.partition);
    else out.push({ topic: tp.topic, partitions: [tp.partition] });
  }
  return out;
}

export function assignmentOf(member: GroupMemberRecord, assignor: string): JoinResponse {
  return {
    memberId: member.memberId,
    generation: member.generation,
    assigned: byTopic(assignedOf(member)),
    revoking: byTopic(revokingOf(member)),
    assignor,
    heartbeatIntervalMs: Math.floor(member.sessionTimeoutMs / heartbeatsPerSession),
  };
}

/** Equal keys: nothing to push. */
export function viewKeyOf(response: JoinResponse): string {
  return JSON.stringify([response.generation, response.assigned, response.revoking]);
}
