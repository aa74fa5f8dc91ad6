// The TypeScript SDK for Raftline, built only on the public gRPC contract in proto/raftline/v1.
export { RaftlineClient } from "./client";
export type { RaftlineClientOptions } from "./client";
export type { SecurityOptions, TlsOptions } from "./credentials";
export { SecurityAdmin } from "./security-admin";
export type { Acl, AclOperation, AclPatternType, AclResourceType, TokenInfo } from "./security-admin";
export { Admin } from "./admin";
export type {
  AddNodeOptions,
  ClusterDescription,
  ClusterNode,
  Membership,
  CreateTopicOptions,
  NodeRole,
  PartitionInfo,
  TopicConfig,
  TopicDescription,
} from "./admin-types";
export { Producer } from "./producer";
export type { ProducerMessage } from "./producer";
export type { ProducerIdentity } from "./sequence-lanes";
export type { AcksMode, ProducerOptions } from "./producer-options";
export { Consumer } from "./consumer";
export type { ConsumerOptions, FetchOptions, FetchResult } from "./consumer";
export { Subscription } from "./subscription";
export type { StartFrom, SubscribeOptions } from "./subscription";
export type { Bytes, ConsumedRecord, ProducerRecord, RecordHeader, RecordMetadata } from "./records";
export { RaftlineError } from "./errors";
export type { ErrorReasonName } from "./errors";
export { defaultRetryPolicy } from "./retry";
export type { RetryPolicy } from "./retry";
export { GroupConsumer } from "./group-consumer";
export type { EachBatchPayload, GroupConsumerOptions, RunHandlers, TopicPartition } from "./group-consumer";
export type { Assignment } from "./group-session";
export { GroupsAdmin } from "./groups-admin";
export type { GroupDescription, ResetTarget } from "./groups-admin";
export { TopicSubscription } from "./topic-subscription";
export { WorkQueue } from "./work-queue";
export type { PopOptions, QueueConfig, QueueOptions } from "./work-queue";
export { QueueDelivery } from "./queue-delivery";
export { SharesAdmin } from "./shares-admin";
export type { ShareGroupDeletion, ShareGroupDescription } from "./shares-admin";
