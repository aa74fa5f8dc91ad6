// The broker's one error vocabulary. Codes are gRPC status names and reasons are the ErrorReason names
// of proto/raftline/v1/errors.proto, so the server maps a BrokerError to a status without a table of
// special cases, and clients see the same reason whichever node or layer raised it.

export type BrokerErrorCode =
  | "NOT_FOUND"
  | "ALREADY_EXISTS"
  | "INVALID_ARGUMENT"
  | "OUT_OF_RANGE"
  | "RESOURCE_EXHAUSTED"
  | "FAILED_PRECONDITION"
  | "DATA_LOSS";

export type BrokerErrorReason =
  | "ERROR_REASON_UNKNOWN_TOPIC"
  | "ERROR_REASON_TOPIC_EXISTS"
  | "ERROR_REASON_INVALID_TOPIC_NAME"
  | "ERROR_REASON_INVALID_PARTITION"
  | "ERROR_REASON_EMPTY_BATCH"
  | "ERROR_REASON_INVALID_FIELD"
  | "ERROR_REASON_OFFSET_OUT_OF_RANGE"
  | "ERROR_REASON_RECORD_TOO_LARGE"
  | "ERROR_REASON_REQUEST_TOO_LARGE"
  | "ERROR_REASON_FAILED_PRECONDITION"
  | "ERROR_REASON_CORRUPT_DATA"
  | "ERROR_REASON_OUT_OF_ORDER_SEQUENCE"
  | "ERROR_REASON_SEQUENCE_REUSED"
  | "ERROR_REASON_PRODUCER_FENCED"
  | "ERROR_REASON_UNKNOWN_PRODUCER_ID"
  | "ERROR_REASON_TOO_MANY_PRODUCERS"
  | "ERROR_REASON_UNKNOWN_GROUP"
  | "ERROR_REASON_UNKNOWN_MEMBER"
  | "ERROR_REASON_STALE_GENERATION"
  | "ERROR_REASON_NOT_PARTITION_OWNER"
  | "ERROR_REASON_GROUP_NOT_EMPTY"
  | "ERROR_REASON_MEMBER_ALREADY_JOINED"
  | "ERROR_REASON_INVALID_SESSION_TIMEOUT"
  | "ERROR_REASON_OFFSET_BEHIND_COMMITTED"
  | "ERROR_REASON_FENCED_INSTANCE"
  | "ERROR_REASON_INVALID_GROUP_ID"
  | "ERROR_REASON_TOO_MANY_GROUPS"
  | "ERROR_REASON_TOO_MANY_MEMBERS"
  | "ERROR_REASON_UNKNOWN_SHARE_GROUP"
  | "ERROR_REASON_SHARE_GROUP_EXISTS"
  | "ERROR_REASON_RECORD_NOT_ACQUIRED"
  | "ERROR_REASON_NOT_RECORD_OWNER"
  | "ERROR_REASON_LOCK_EXPIRED"
  | "ERROR_REASON_TOO_MANY_SHARE_GROUPS"
  | "ERROR_REASON_SHARE_GROUP_IN_USE"
  | "ERROR_REASON_UNKNOWN_ACL"
  | "ERROR_REASON_UNKNOWN_TOKEN"
  | "ERROR_REASON_TOO_MANY_ACLS"
  | "ERROR_REASON_TOO_MANY_TOKENS";

/** gRPC status code numbers (grpc/status.h); kept here so the broker needs no gRPC import. */
export const grpcStatusOf: Readonly<Record<BrokerErrorCode, number>> = {
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  INVALID_ARGUMENT: 3,
  OUT_OF_RANGE: 11,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  DATA_LOSS: 15,
};

export class BrokerError extends Error {
  constructor(
    readonly code: BrokerErrorCode,
    readonly reason: BrokerErrorReason,
    message: string,
  ) {
    super(message);
    this.name = "BrokerError";
  }
}

/** Longest piece of caller input quoted in an error message, in characters. */
export const maxEchoChars = 64;

/** Caller input as quoted in an error message: cut short (marked "…") so answers stay small. */
export function echo(input: string): string {
  return input.length <= maxEchoChars ? `"${input}"` : `"${input.slice(0, maxEchoChars)}…" (${input.length} characters)`;
}

export function unknownTopic(name: string): BrokerError {
  return new BrokerError("NOT_FOUND", "ERROR_REASON_UNKNOWN_TOPIC", `unknown topic ${echo(name)}`);
}

export function invalidField(message: string): BrokerError {
  return new BrokerError("INVALID_ARGUMENT", "ERROR_REASON_INVALID_FIELD", message);
}

export function corruptData(message: string): BrokerError {
  return new BrokerError("DATA_LOSS", "ERROR_REASON_CORRUPT_DATA", message);
}
