// Bounds and checks of the consumer-group commands, shared by the server (to refuse before proposing)
// and by apply (which checks again: the state may have changed meanwhile).
import { assignorNames, defaultAssignor, isAssignorName, type AssignorName } from "./assignors";
import { utf8 } from "./binary";
import { BrokerError, invalidField } from "./errors";

export const maxGroupIdChars = 249;
export const maxGroups = 10_000;
export const maxMembersPerGroup = 1_000;
export const maxTopicsPerMember = 100;
export const maxCommitMetadataBytes = 4096;
/** client_id and instance_id. */
export const maxClientIdBytes = 255;
export const minSessionTimeoutMs = 1_000;
export const maxSessionTimeoutMs = 1_800_000;
/** Kafka's session.timeout.ms default. */
export const defaultSessionTimeoutMs = 45_000;

const groupIdPattern = /^[a-zA-Z0-9._-]+$/;

export function validateGroupId(groupId: string): void {
  if (groupId.length < 1 || groupId.length > maxGroupIdChars || !groupIdPattern.test(groupId)) {
    throw new BrokerError(
      "INVALID_ARGUMENT",
      "ERROR_REASON_INVALID_GROUP_ID",
      `invalid group id "${groupId}": use 1..${maxGroupIdChars} characters of [a-zA-Z0-9._-]`,
    );
  }
}

export function validateSessionTimeout(ms: number): void {
  if (!Number.isInteger(ms) || ms < minSessionTimeoutMs || ms > maxSessionTimeoutMs) {
    throw new BrokerError(
      "INVALID_ARGUMENT",
      "ERROR_REASON_INVALID_SESSION_TIMEOUT",
      `session_timeout_ms must be in ${minSessionTimeoutMs}..${maxSessionTimeoutMs}, got ${ms}`,
    );
  }
}

export function resolveAssignor(name: string): AssignorName {
  if (name === "") return defaultAssignor;
  if (!isAssignorName(name)) throw invalidField(`unknown assignor "${name}": use one of ${assignorNames.join(", ")}`);
  return name;
}

export function validateMemberTopics(topics: readonly string[]): void {
  if (topics.length === 0) throw invalidField("a member must subscribe to at least one topic");
  if (topics.length > maxTopicsPerMember) throw invalidField(`a member subscribes to at most ${maxTopicsPerMember} topics, got ${topics.length}`);
  if (new Set(topics).size !== topics.length) throw invalidField("topics must not repeat");
}

export function validateShortText(field: string, text: string, maxBytes: number): void {
  if (utf8(text).length > maxBytes) throw invalidField(`${field} is over ${maxBytes} bytes`);
}

export function unknownGroup(groupId: string): BrokerError {
  return new BrokerError("NOT_FOUND", "ERROR_REASON_UNKNOWN_GROUP", `unknown consumer group "${groupId}"`);
}

export function unknownMember(groupId: string, memberId: string): BrokerError {
  return new BrokerError(
    "FAILED_PRECONDITION",
    "ERROR_REASON_UNKNOWN_MEMBER",
    `member "${memberId}" is not in group "${groupId}" (it left or its session expired); join again`,
  );
}

export function groupNotEmpty(groupId: string, members: number): BrokerError {
  return new BrokerError("FAILED_PRECONDITION", "ERROR_REASON_GROUP_NOT_EMPTY", `group "${groupId}" has ${members} members`);
}
