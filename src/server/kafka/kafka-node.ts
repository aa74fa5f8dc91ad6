// What the Kafka handlers share: the node's context, the group coordinator, and the brokers to advertise.
import type { Decompress } from "../../kafka/record-batch-v2";
import type { BrokerAddress } from "../../kafka/metadata";
import type { NodeContext } from "../node-context";
import type { KafkaGroups } from "./kafka-groups";
import { splitAddress } from "./kafka-listener";

export interface KafkaNode {
  ctx: NodeContext;
  groups: KafkaGroups;
  decompress: Decompress;
}

/** Every node whose Kafka listener is configured, as Metadata lists them. */
export function advertisedBrokers(ctx: NodeContext): BrokerAddress[] {
  return ctx.config.kafkaMembers.map((m) => {
    const [host, port] = splitAddress(m.address);
    return { nodeId: m.id, host, port };
  });
}

/** The raft leader if clients can reach it over Kafka, else -1 (clients then wait and ask again). */
export function advertisedLeader(ctx: NodeContext): number {
  const leader = ctx.replica.leaderId;
  return ctx.config.kafkaMembers.some((m) => m.id === leader) ? leader : -1;
}
