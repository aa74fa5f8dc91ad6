// Limits and checks shared by the server (to refuse a request before proposing it) and by apply (which
// re-checks, because the state may have changed between proposal and commit).
import { utf8 } from "./binary";
import { BrokerError, echo, invalidField } from "./errors";

/** Longest CreateTopic request id, in UTF-8 bytes. */
export const maxRequestIdBytes = 128;

export const maxTopicNameChars = 249;
export const minPartitions = 1;
export const maxPartitions = 1000;
/** Used when a topic is created with max_record_bytes = 0. */
export const defaultMaxRecordBytes = 1024 * 1024;
/** No topic may allow larger records: one record must fit one raft entry and one gRPC message. */
export const maxRecordBytesCeiling = 16 * 1024 * 1024;

const topicNamePattern = /^[a-zA-Z0-9._-]+$/;

export function validateTopicName(name: string): void {
  const valid =
    name.length >= 1 &&
    name.length <= maxTopicNameChars &&
    name !== "." &&
    name !== ".." &&
    topicNamePattern.test(name);
  if (!valid) {
    throw new BrokerError(
      "INVALID_ARGUMENT",
      "ERROR_REASON_INVALID_TOPIC_NAME",
      `invalid topic name ${echo(name)}: use 1..${maxTopicNameChars} characters of [a-zA-Z0-9._-], not "." or ".."`,
    );
  }
}

export function validatePartitionCount(partitions: number): void {
  if (!Number.isInteger(partitions) || partitions < minPartitions || partitions > maxPartitions) {
    throw new BrokerError(
      "INVALID_ARGUMENT",
      "ERROR_REASON_INVALID_PARTITION",
      `partitions must be in ${minPartitions}..${maxPartitions}, got ${partitions}`,
    );
  }
}

export function validatePartition(topic: string, partition: number, partitions: number): void {
  if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) {
    throw new BrokerError(
      "INVALID_ARGUMENT",
      "ERROR_REASON_INVALID_PARTITION",
      `partition ${partition} out of range for topic "${topic}" (0..${partitions - 1})`,
    );
  }
}

export function validateNonNegative(field: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw invalidField(`${field} must be a non-negative integer, got ${value}`);
  }
}

/** Resolves max_record_bytes (0 = default) and checks it against the ceiling. */
export function resolveMaxRecordBytes(requested: number): number {
  validateNonNegative("max_record_bytes", requested);
  if (requested > maxRecordBytesCeiling) {
    throw invalidField(`max_record_bytes must be at most ${maxRecordBytesCeiling}, got ${requested}`);
  }
  return requested === 0 ? defaultMaxRecordBytes : requested;
}

export function recordTooLarge(topic: string, recordBytes: number, maxRecordBytes: number): BrokerError {
  return new BrokerError(
    "RESOURCE_EXHAUSTED",
    "ERROR_REASON_RECORD_TOO_LARGE",
    `a record of ${recordBytes} bytes exceeds max_record_bytes ${maxRecordBytes} of topic "${topic}"`,
  );
}

export function emptyBatch(message: string): BrokerError {
  return new BrokerError("INVALID_ARGUMENT", "ERROR_REASON_EMPTY_BATCH", message);
}

export function validateRequestId(requestId: string): void {
  const bytes = utf8(requestId).length;
  if (bytes > maxRequestIdBytes) throw invalidField(`request_id must be at most ${maxRequestIdBytes} bytes, got ${bytes}`);
}
