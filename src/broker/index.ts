// The public surface of the replicated state machine, for the server.
export { BrokerState, ApplyOutcome, LoadedBrokerState, LoadedPartition } from "./broker-state";
export {
  Command,
  CommandKind,
  CreateTopicCommand,
  DeleteTopicCommand,
  InitProducerCommand,
  ProduceCommand,
  ProduceCommandBatch,
  ProducerStamp,
  PutMemberCommand,
  TickCommand,
  UnsupportedCommandError,
  encodeCommand,
  decodeCommand,
} from "./commands";
export { BrokerError, BrokerErrorCode, BrokerErrorReason, grpcStatusOf, invalidField, unknownTopic } from "./errors";
export { StoredBatch } from "./fetch-records";
export {
  BrokerMutation,
  CachedBatch,
  ProducerPartitionKey,
  ProducerPartitionRecord,
  ProducerRecord,
  TopicRecord,
} from "./mutations";
export { MemberRecord, maxIncarnationBytes, maxMemberAddressBytes, maxMemberRecords } from "./member-records";
export { BatchIndexEntry } from "./partition-log";
export { StickyPartitioner, murmur2, partitionForKey, toPositive } from "./partitioner";
export {
  LoadedProducers,
  defaultProducerExpiryMs,
  maxCachedBatchesPerPartition,
  maxProducers,
  maxProducerExpiriesPerTick,
} from "./producer-table";
export {
  PartitionAppendOutcome,
  PlannedAppend,
  ProduceBatchInput,
  ProduceBatchOutcome,
  ProducePlan,
  planProduce,
  produceOutcome,
} from "./produce-plan";
export {
  DecodedRecord,
  RecordHeader,
  RecordInput,
  decodeRecordBatch,
  encodeRecordBatch,
  verifyRecordBatch,
} from "./record-batch";
export {
  AppendedBatch,
  CommandResult,
  FetchLocation,
  PartitionInfo,
  StartOffsetMove,
  TopicDescription,
  TopicInfo,
} from "./results";
export { maxBatchDeletesPerTick } from "./retention";
export { defaultMaxRecordBytes, maxPartitions, maxRecordBytesCeiling, validateTopicName } from "./validation";
export { AssignorName, assign, assignorNames, compareTp, defaultAssignor, tpKey } from "./assignors";
export {
  CommitOffsetsCommand,
  DeleteGroupCommand,
  GroupCommand,
  GroupCommandKind,
  GroupJoinCommand,
  GroupLeaveCommand,
  GroupRevokedCommand,
  OffsetToCommit,
  ResetOffsetsCommand,
  TopicPartition,
} from "./group-commands";
export { GroupMemberRecord, GroupMutation, GroupRecord, GroupStateName, LoadedGroups, OffsetRecord } from "./group-records";
export { GroupResult, GroupTable, GroupTopicView, assignedOf, groupStateOf, revokingOf } from "./group-table";
export * from "./group-validation";
export {
  DeadLetterEntry,
  ShareAck,
  ShareAckCommand,
  ShareAckType,
  ShareAcquireCommand,
  ShareCommand,
  ShareCommandKind,
  ShareCreateCommand,
  ShareDeadLetterCommand,
  ShareDeleteCommand,
} from "./share-commands";
export { LoadedShares, ShareConfig, ShareGroupRecord, ShareMutation, SharePartitionRecord, ShareRecordState, ShareRecordStateName, ShareRun } from "./share-records";
export { AcquiredRecord, EffectiveState, SharePartitionCounts, ShareResult, ShareTable, ShareTopicView, effectiveState } from "./share-table";
export * from "./share-validation";
export * from "./acl";
export { AddAclCommand, CreateTokenCommand, DeleteTokenCommand, RemoveAclCommand, SecurityCommand, SecurityCommandKind } from "./security-commands";
export { LoadedSecurity, SecurityMutation, SecurityResult, SecurityTable } from "./security-table";
