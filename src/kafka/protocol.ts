// The API keys this listener answers, the versions of each it speaks, and the error codes it uses.
// Only non-flexible versions (no tagged fields) are offered: kafkajs 2.x speaks nothing newer, and
// librdkafka and sarama settle on the highest version both sides list (see docs in kafka/README.md).

export enum ApiKey {
  Produce = 0,
  Fetch = 1,
  ListOffsets = 2,
  Metadata = 3,
  OffsetCommit = 8,
  OffsetFetch = 9,
  FindCoordinator = 10,
  JoinGroup = 11,
  Heartbeat = 12,
  LeaveGroup = 13,
  SyncGroup = 14,
  ApiVersions = 18,
  CreateTopics = 19,
  DeleteTopics = 20,
  InitProducerId = 22,
  DescribeConfigs = 32,
}

export interface VersionRange {
  min: number;
  max: number;
}

/** Per API key, the versions answered. Ordered by key, as ApiVersions lists them. */
export const supportedVersions: ReadonlyMap<ApiKey, VersionRange> = new Map([
  [ApiKey.Produce, { min: 3, max: 8 }],
  [ApiKey.Fetch, { min: 4, max: 11 }],
  [ApiKey.ListOffsets, { min: 1, max: 5 }],
  [ApiKey.Metadata, { min: 0, max: 8 }],
  [ApiKey.OffsetCommit, { min: 0, max: 7 }],
  [ApiKey.OffsetFetch, { min: 1, max: 5 }],
  [ApiKey.FindCoordinator, { min: 0, max: 2 }],
  [ApiKey.JoinGroup, { min: 0, max: 5 }],
  [ApiKey.Heartbeat, { min: 0, max: 3 }],
  [ApiKey.LeaveGroup, { min: 0, max: 3 }],
  [ApiKey.SyncGroup, { min: 0, max: 3 }],
  [ApiKey.ApiVersions, { min: 0, max: 2 }],
  [ApiKey.CreateTopics, { min: 0, max: 4 }],
  [ApiKey.DeleteTopics, { min: 0, max: 3 }],
  [ApiKey.InitProducerId, { min: 0, max: 1 }],
  [ApiKey.DescribeConfigs, { min: 0, max: 2 }],
]);

export function isSupported(apiKey: number, version: number): boolean {
  const range = supportedVersions.get(apiKey as ApiKey);
  return range !== undefined && version >= range.min && version <= range.max;
}

/** Kafka error codes (org.apache.kafka.common.protocol.Errors) this listener answers with. */
export enum KafkaError {
  UnknownServerError = -1,
  None = 0,
  OffsetOutOfRange = 1,
  CorruptMessage = 2,
  UnknownTopicOrPartition = 3,
  LeaderNotAvailable = 5,
  NotLeaderOrFollower = 6,
  RequestTimedOut = 7,
  MessageTooLarge = 10,
  CoordinatorNotAvailable = 15,
  NotCoordinator = 16,
  InvalidTopic = 17,
  RecordListTooLarge = 18,
  NotEnoughReplicas = 19,
  InvalidRequiredAcks = 21,
  IllegalGeneration = 22,
  InconsistentGroupProtocol = 23,
  InvalidGroupId = 24,
  UnknownMemberId = 25,
  InvalidSessionTimeout = 26,
  RebalanceInProgress = 27,
  UnsupportedVersion = 35,
  TopicAlreadyExists = 36,
  InvalidPartitions = 37,
  InvalidReplicationFactor = 38,
  InvalidRequest = 42,
  OutOfOrderSequenceNumber = 45,
  InvalidProducerEpoch = 47,
  UnknownProducerId = 59,
  GroupIdNotFound = 69,
  UnsupportedCompressionType = 76,
  MemberIdRequired = 79,
  GroupMaxSizeReached = 81,
  FencedInstanceId = 82,
  InvalidRecord = 87,
}
