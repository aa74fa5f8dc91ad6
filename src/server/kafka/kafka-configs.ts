// DescribeConfigs: a topic's Raftline settings under their Kafka names, and a few of this node's
// settings as a broker's. Every value is read-only: topics are configured when created, and there is no
// AlterConfigs. Topics are read from this node's applied state, like Metadata.
import { defaultMaxRecordBytes, type TopicInfo } from "../../broker";
import { ConfigSource, ResourceType, type ConfigEntry, type ConfigResource, type ConfigResult } from "../../kafka/configs";
import { KafkaError } from "../../kafka/protocol";
import type { NodeContext } from "../node-context";
import { defaultPartitions } from "./kafka-admin";

function entry(name: string, value: string, source: ConfigSource): ConfigEntry {
  return { name, value, readOnly: true, source, isSensitive: false };
}

/** Raftline's 0 (no limit) is Kafka's -1. */
function limit(value: number): string {
  return value === 0 ? "-1" : String(value);
}

function sourceOf(isDefault: boolean): ConfigSource {
  return isDefault ? ConfigSource.DefaultConfig : ConfigSource.DynamicTopicConfig;
}

/** A write is acknowledged once a majority of the voters has it: Kafka's min.insync.replicas with acks=all. */
function majority(ctx: NodeContext): number {
  return Math.floor(ctx.replica.membership.voters.length / 2) + 1;
}

function topicConfigs(ctx: NodeContext, topic: TopicInfo): ConfigEntry[] {
  return [
    entry("cleanup.policy", "delete", ConfigSource.DefaultConfig),
    entry("retention.ms", limit(topic.retentionMs), sourceOf(topic.retentionMs === 0)),
    entry("retention.bytes", limit(topic.retentionBytes), sourceOf(topic.retentionBytes === 0)),
    entry("max.message.bytes", String(topic.maxRecordBytes), sourceOf(topic.maxRecordBytes === defaultMaxRecordBytes)),
    entry("message.timestamp.type", "CreateTime", ConfigSource.DefaultConfig),
    entry("compression.type", "uncompressed", ConfigSource.DefaultConfig),
    entry("min.insync.replicas", String(majority(ctx)), ConfigSource.DefaultConfig),
  ];
}

function brokerConfigs(ctx: NodeContext): ConfigEntry[] {
  return [
    entry("broker.id", String(ctx.config.id), ConfigSource.StaticBrokerConfig),
    entry("auto.create.topics.enable", "false", ConfigSource.DefaultConfig),
    entry("num.partitions", String(defaultPartitions), ConfigSource.DefaultConfig),
    entry("default.replication.factor", String(ctx.replica.membership.voters.length), ConfigSource.DefaultConfig),
    entry("message.max.bytes", String(defaultMaxRecordBytes), ConfigSource.DefaultConfig),
    entry("log.retention.ms", "-1", ConfigSource.DefaultConfig),
    entry("log.retention.bytes", "-1", ConfigSource.DefaultConfig),
    entry("log.cleanup.policy", "delete", ConfigSource.DefaultConfig),
  ];
}

function refused(resource: ConfigResource, errorCode: KafkaError, message: string): ConfigResult {
  return { errorCode, errorMessage: message, resourceType: resource.resourceType, resourceName: resource.resourceName, configs: [] };
}

function describeOne(ctx: NodeContext, resource: ConfigResource): ConfigResult {
  let configs: ConfigEntry[];
  if (resource.resourceType === ResourceType.Topic) {
    const topic = ctx.machine.state.topic(resource.resourceName);
    if (!topic) return refused(resource, KafkaError.UnknownTopicOrPartition, `topic "${resource.resourceName}" does not exist`);
    configs = topicConfigs(ctx, topic);
  } else if (resource.resourceType === ResourceType.Broker) {
    // As Kafka: a broker describes itself, or (an empty name) the cluster's defaults.
    if (resource.resourceName !== "" && resource.resourceName !== String(ctx.config.id)) {
      return refused(resource, KafkaError.InvalidRequest, `this is broker ${ctx.config.id}, not "${resource.resourceName}"`);
    }
    configs = brokerConfigs(ctx);
  } else {
    return refused(resource, KafkaError.InvalidRequest, `resource type ${resource.resourceType} is not described (topics are 2, brokers 4)`);
  }
  const wanted = resource.configNames;
  // Null or empty asks for every config, as Kafka takes both.
  return {
    errorCode: KafkaError.None,
    errorMessage: null,
    resourceType: resource.resourceType,
    resourceName: resource.resourceName,
    configs: wanted === null || wanted.length === 0 ? configs : configs.filter((c) => wanted.includes(c.name)),
  };
}

export function describeConfigs(ctx: NodeContext, resources: readonly ConfigResource[]): ConfigResult[] {
  return resources.map((resource) => describeOne(ctx, resource));
}
