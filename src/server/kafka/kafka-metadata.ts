// Metadata and FindCoordinator: every node with a Kafka listener is a broker, and the raft leader leads
// every partition and coordinates every group (it is where writes and group state live).
import { KafkaError } from "../../kafka/protocol";
import type { MetadataRequest, MetadataResponse, TopicMetadata } from "../../kafka/metadata";
import type { NodeContext } from "../node-context";
import { advertisedBrokers, advertisedLeader } from "./kafka-node";

export function metadata(ctx: NodeContext, req: MetadataRequest): MetadataResponse {
  const state = ctx.machine.state;
  const leader = advertisedLeader(ctx);
  const brokers = advertisedBrokers(ctx);
  const voters = ctx.replica.membership.voters.filter((id) => brokers.some((b) => b.nodeId === id));
  const names = req.topics ?? state.listTopics().map((t) => t.name);
  const topics: TopicMetadata[] = names.map((name) => {
    const topic = state.topic(name);
    if (!topic) return { errorCode: KafkaError.UnknownTopicOrPartition, name, partitions: [] };
    return {
      errorCode: KafkaError.None,
      name,
      partitions: Array.from({ length: topic.partitions }, (_, partition) => ({
        errorCode: leader === -1 ? KafkaError.LeaderNotAvailable : KafkaError.None,
        partition,
        leaderId: leader,
        replicas: voters,
      })),
    };
  });
  return { brokers, clusterId: ctx.clusterId, controllerId: leader, topics };
}

export function coordinator(ctx: NodeContext): { errorCode: KafkaError; nodeId: number; host: string; port: number } {
  const leader = advertisedLeader(ctx);
  const broker = advertisedBrokers(ctx).find((b) => b.nodeId === leader);
  if (!broker) return { errorCode: KafkaError.CoordinatorNotAvailable, nodeId: -1, host: "", port: -1 };
  return { errorCode: KafkaError.None, ...broker };
}
