// Bounds, defaults and errors of the share groups, shared by the server (to refuse before proposing) and
// by apply (which checks again: the state may have changed meanwhile).
import { BrokerError, echo, invalidField } from "./errors";
import type { ShareConfig } from "./share-records";
import { validateTopicName } from "./validation";

export const maxShareGroups = 10_000;
export const defaultDeliveryLimit = 5;
export const maxDeliveryLimit = 100;
export const defaultLockTimeoutMs = 30_000;
export const minLockTimeoutMs = 100;
export const maxLockTimeoutMs = 3_600_000;
export const maxBackoffMs = 3_600_000;
export const defaultBackoffMaxMs = 60_000;
export const defaultMaxInFlightPerPartition = 5_000;
export const maxInFlightPerPartitionCeiling = 10_000;
/** Records in one Pop, one Ack request or one acquisition. */
export const maxRecordsPerShareCall = 1_000;
export const maxConsumerIdBytes = 255;
export const maxRejectReasonBytes = 1_024;
export const maxPopTimeoutMs = 300_000;
export const maxReceiveCredit = 10_000;

/** The configuration a request asks for, zeros meaning "the default". */
export interface ShareConfigInput {
  deliveryLimit: number;
  lockTimeoutMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  maxInFlightPerPartition: number;
  deadLetterTopic: string;
}

export function defaultDeadLetterTopic(groupId: string): string {
  return `${groupId}.dlq`;
}

function inRange(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw invalidField(`${field} must be in ${min}..${max}, got ${value}`);
  return value;
}

/** Fills in defaults and checks every bound; throws INVALID_ARGUMENT. */
export function resolveShareConfig(groupId: string, topic: string, input: ShareConfigInput): ShareConfig {
  const backoffInitialMs = inRange("backoff_initial_ms", input.backoffInitialMs, 0, maxBackoffMs);
  const config: ShareConfig = {
    deliveryLimit: inRange("delivery_limit", input.deliveryLimit || defaultDeliveryLimit, 1, maxDeliveryLimit),
    lockTimeoutMs: inRange("lock_timeout_ms", input.lockTimeoutMs || defaultLockTimeoutMs, minLockTimeoutMs, maxLockTimeoutMs),
    backoffInitialMs,
    backoffMaxMs: inRange("backoff_max_ms", input.backoffMaxMs || Math.max(defaultBackoffMaxMs, backoffInitialMs), backoffInitialMs, maxBackoffMs),
    maxInFlightPerPartition: inRange(
      "max_in_flight_per_partition",
      input.maxInFlightPerPartition || defaultMaxInFlightPerPartition,
      1,
      maxInFlightPerPartitionCeiling,
    ),
    deadLetterTopic: input.deadLetterTopic || defaultDeadLetterTopic(groupId),
  };
  validateTopicName(config.deadLetterTopic);
  if (config.deadLetterTopic === topic) throw invalidField("the dead-letter topic must not be the group's topic");
  return config;
}

/** How long the n-th redelivery waits after a release or a lock expiry (n = deliveries so far, >= 1). */
export function backoffMs(config: ShareConfig, deliveryCount: number): number {
  if (config.backoffInitialMs === 0) return 0;
  const doublings = Math.min(Math.max(deliveryCount - 1, 0), 40);
  return Math.min(config.backoffMaxMs, config.backoffInitialMs * 2 ** doublings);
}

export function unknownShareGroup(groupId: string): BrokerError {
  return new BrokerError("NOT_FOUND", "ERROR_REASON_UNKNOWN_SHARE_GROUP", `unknown share group ${echo(groupId)}`);
}

export function shareGroupInUse(groupId: string, why: string): BrokerError {
  return new BrokerError("FAILED_PRECONDITION", "ERROR_REASON_SHARE_GROUP_IN_USE", `share group ${echo(groupId)} is in use (${why}); delete with force to delete it anyway`);
}

export function validateConsumerId(consumerId: string, required: boolean): void {
  if (required && consumerId === "") throw invalidField("consumer_id must not be empty");
  if (new TextEncoder().encode(consumerId).length > maxConsumerIdBytes) throw invalidField(`consumer_id is over ${maxConsumerIdBytes} bytes`);
}

export function notAcquired(partition: number, offset: number, why: string): BrokerError {
  return new BrokerError("FAILED_PRECONDITION", "ERROR_REASON_RECORD_NOT_ACQUIRED", `record ${partition}/${offset} is not acquired: ${why}`);
}

export function notOwner(partition: number, offset: number): BrokerError {
  return new BrokerError("FAILED_PRECONDITION", "ERROR_REASON_NOT_RECORD_OWNER", `record ${partition}/${offset} is held by another consumer`);
}

export function lockExpired(partition: number, offset: number): BrokerError {
  return new BrokerError("FAILED_PRECONDITION", "ERROR_REASON_LOCK_EXPIRED", `the lock on record ${partition}/${offset} (that delivery of it) ran out`);
}
