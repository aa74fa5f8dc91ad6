// OffsetCommit and OffsetFetch. A Kafka group's committed offsets are Raftline group offsets: committed
// through the log (as ResetOffsets of a group without gRPC members, one command per topic) and read from
// the applied group table, so `raftline group describe` and gRPC consumers see them. The Kafka
// coordinator fences commits by member and generation before proposing. A group with gRPC members at
// the moment refuses Kafka commits (GROUP_NOT_EMPTY → INCONSISTENT_GROUP_PROTOCOL).
import { GroupCommandKind } from "../../broker";
import type { OffsetCommitRequest, OffsetFetchPartition, OffsetFetchRequest, PartitionErrors } from "../../kafka/groups";
import { KafkaError } from "../../kafka/protocol";
import { commit } from "../services/rpc";
import { kafkaFailure } from "./kafka-errors";
import type { KafkaNode } from "./kafka-node";

/** Longest a commit waits for the log. */
const commitTimeoutMs = 10_000;

export async function commitOffsets(node: KafkaNode, req: OffsetCommitRequest): Promise<PartitionErrors> {
  const { ctx } = node;
  const fenced = node.groups.check(req.groupId, req.memberId, req.generationId);
  const all = (errorCode: KafkaError): PartitionErrors =>
    req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode })) }));
  if (fenced !== KafkaError.None) return all(fenced);
  if (req.groupId === "") return all(KafkaError.InvalidGroupId);
  return Promise.all(
    req.topics.map(async (t) => {
      const errorCode = await commitTopic(node, req.groupId, t.name, t.partitions);
      return { name: t.name, partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode })) };
    }),
  );
  async function commitTopic(n: KafkaNode, groupId: string, topic: string, partitions: { partition: number; offset: number }[]): Promise<KafkaError> {
    if (partitions.length === 0) return KafkaError.None;
    try {
      const offsets = partitions.map((p) => ({ partition: p.partition, offset: p.offset }));
      await commit(n.ctx, { kind: GroupCommandKind.ResetOffsets, nowMs: ctx.now(), groupId, topic, offsets }, ctx.now() + commitTimeoutMs);
      return KafkaError.None;
    } catch (err) {
      return kafkaFailure(err).errorCode;
    }
  }
}

export function fetchOffsets(node: KafkaNode, req: OffsetFetchRequest): { topics: { name: string; partitions: OffsetFetchPartition[] }[]; errorCode: KafkaError } {
  const { ctx } = node;
  const state = ctx.machine.state;
  if (!ctx.replica.isLeader) {
    const topics = (req.topics ?? []).map((t) => ({
      name: t.name,
      partitions: t.partitions.map((partition) => ({ partition, offset: -1, metadata: null, errorCode: KafkaError.NotCoordinator })),
    }));
    return { topics, errorCode: KafkaError.NotCoordinator };
  }
  const topicsById = new Map(state.listTopics().map((t) => [t.id, t]));
  const wanted =
    req.topics ??
    [...groupBy(state.groups.committed(req.groupId), (o) => topicsById.get(o.topicId)?.name)].map(([name, offsets]) => ({
      name,
      partitions: offsets.map((o) => o.partition).sort((a, b) => a - b),
    }));
  const topics = wanted.map((t) => {
    const topic = state.topic(t.name);
    return {
      name: t.name,
      partitions: t.partitions.map((partition): OffsetFetchPartition => {
        const committed = topic ? state.groups.committedOffset(req.groupId, topic.id, partition) : undefined;
        return { partition, offset: committed?.offset ?? -1, metadata: committed ? committed.metadata : null, errorCode: KafkaError.None };
      }),
    };
  });
  return { topics, errorCode: KafkaError.None };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string | undefined): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === undefined) continue;
    out.set(k, [...(out.get(k) ?? []), item]);
  }
  return out;
}
