// Raftline's error vocabulary (ErrorReason) mapped onto the Kafka error codes clients act on: retriable
// ones (not leader, timed out) make clients refresh metadata and retry; the rest are final.
import { KafkaError } from "../../kafka/protocol";
import { asRpcError } from "../services/rpc";
import type { Reason } from "../rpc-errors";

const byReason: Partial<Record<Reason, KafkaError>> = {
  ERROR_REASON_UNKNOWN_TOPIC: KafkaError.UnknownTopicOrPartition,
  ERROR_REASON_INVALID_PARTITION: KafkaError.UnknownTopicOrPartition,
  ERROR_REASON_TOPIC_EXISTS: KafkaError.TopicAlreadyExists,
  ERROR_REASON_INVALID_TOPIC_NAME: KafkaError.InvalidTopic,
  ERROR_REASON_EMPTY_BATCH: KafkaError.InvalidRecord,
  ERROR_REASON_INVALID_FIELD: KafkaError.InvalidRecord,
  ERROR_REASON_OFFSET_OUT_OF_RANGE: KafkaError.OffsetOutOfRange,
  ERROR_REASON_RECORD_TOO_LARGE: KafkaError.MessageTooLarge,
  ERROR_REASON_REQUEST_TOO_LARGE: KafkaError.RecordListTooLarge,
  ERROR_REASON_NOT_LEADER: KafkaError.NotLeaderOrFollower,
  ERROR_REASON_LEADER_TRANSFER: KafkaError.NotLeaderOrFollower,
  ERROR_REASON_NO_QUORUM: KafkaError.RequestTimedOut,
  ERROR_REASON_OVERLOADED: KafkaError.RequestTimedOut,
  ERROR_REASON_OUTCOME_UNKNOWN: KafkaError.RequestTimedOut,
  ERROR_REASON_CORRUPT_DATA: KafkaError.CorruptMessage,
  ERROR_REASON_OUT_OF_ORDER_SEQUENCE: KafkaError.OutOfOrderSequenceNumber,
  // Not DUPLICATE_SEQUENCE_NUMBER: librdkafka takes that one as "delivered" (see src/kafka/README.md).
  ERROR_REASON_SEQUENCE_REUSED: KafkaError.OutOfOrderSequenceNumber,
  ERROR_REASON_PRODUCER_FENCED: KafkaError.InvalidProducerEpoch,
  ERROR_REASON_UNKNOWN_PRODUCER_ID: KafkaError.UnknownProducerId,
  ERROR_REASON_TOO_MANY_PRODUCERS: KafkaError.RequestTimedOut,
  ERROR_REASON_INVALID_GROUP_ID: KafkaError.InvalidGroupId,
  ERROR_REASON_UNKNOWN_GROUP: KafkaError.GroupIdNotFound,
  ERROR_REASON_GROUP_NOT_EMPTY: KafkaError.InconsistentGroupProtocol,
};

export interface KafkaFailure {
  errorCode: KafkaError;
  message: string;
}

/** Any failure of a handler, as the Kafka error code its client should see. */
export function kafkaFailure(err: unknown): KafkaFailure {
  const rpc = asRpcError(err);
  return { errorCode: byReason[rpc.reason] ?? KafkaError.UnknownServerError, message: rpc.message };
}
