// One error vocabulary for every service: a gRPC status code, an ErrorReason, a message, and for
// retriable errors the leader hint in trailing metadata (documented in proto/raftline/v1/errors.proto).
import { Metadata, status } from "@grpc/grpc-js";
import type { ErrorReason } from "../generated/raftline/v1/ErrorReason";
import type { ErrorStatus } from "../generated/raftline/v1/ErrorStatus";
import { ReplicaError } from "./replica-errors";

export type Reason = Exclude<ErrorReason, number>;

/** The longest status message we send, in UTF-8 bytes: far below C-core clients' 8 KiB metadata limit. */
export const maxStatusMessageBytes = 512;

/** `text` cut to at most `maxBytes` of UTF-8 on a character boundary, marked with "…" when cut. */
export function boundedText(text: string, maxBytes = maxStatusMessageBytes): string {
  if (Buffer.byteLength(text, "utf8") <= maxBytes) return text;
  const bytes = Buffer.from(text, "utf8");
  // "…" is three bytes; step back to the start of a character so none is split.
  let end = maxBytes - 3;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString("utf8") + "…";
}

export class RpcError extends Error {
  constructor(
    readonly code: status,
    readonly reason: Reason,
    message: string,
    readonly leaderId = 0,
  ) {
    super(boundedText(message));
  }
}

export interface LeaderHint {
  id: number;
  address: string;
}

export interface GrpcErrorShape {
  code: status;
  details: string;
  metadata: Metadata;
}

/** Turns any failure into a status the client can act on; unknown errors become INTERNAL. */
export function toRpcError(err: unknown): RpcError {
  if (err instanceof RpcError) return err;
  if (err instanceof ReplicaError) return fromReplicaError(err);
  if (isServiceError(err)) {
    return new RpcError(err.code, reasonFromMetadata(err.metadata), err.details, leaderFromMetadata(err.metadata));
  }
  const message = err instanceof Error ? err.message : String(err);
  return new RpcError(status.INTERNAL, "ERROR_REASON_UNSPECIFIED", `internal error: ${message}`);
}

function fromReplicaError(err: ReplicaError): RpcError {
  switch (err.code) {
    case "NOT_LEADER":
      return new RpcError(status.UNAVAILABLE, err.leader ? "ERROR_REASON_NOT_LEADER" : "ERROR_REASON_NO_QUORUM", err.message, err.leader);
    case "TRANSFER_IN_PROGRESS":
      return new RpcError(status.UNAVAILABLE, "ERROR_REASON_LEADER_TRANSFER", err.message, err.leader);
    case "BUSY":
      return new RpcError(status.UNAVAILABLE, "ERROR_REASON_OVERLOADED", err.message, err.leader);
    case "LOST":
    case "STOPPED":
      return err.certain
        ? new RpcError(status.UNAVAILABLE, err.leader ? "ERROR_REASON_NOT_LEADER" : "ERROR_REASON_NO_QUORUM", err.message, err.leader)
        : new RpcError(status.UNAVAILABLE, "ERROR_REASON_OUTCOME_UNKNOWN", err.message, err.leader);
    case "UNKNOWN_OUTCOME":
      return new RpcError(status.UNAVAILABLE, "ERROR_REASON_OUTCOME_UNKNOWN", err.message, err.leader);
    case "TIMEOUT":
      return err.certain
        ? new RpcError(status.UNAVAILABLE, "ERROR_REASON_NO_QUORUM", err.message, err.leader)
        : new RpcError(status.DEADLINE_EXCEEDED, "ERROR_REASON_OUTCOME_UNKNOWN", err.message, err.leader);
    case "REJECTED":
      return new RpcError(status.FAILED_PRECONDITION, "ERROR_REASON_FAILED_PRECONDITION", err.message, err.leader);
  }
}

export function toGrpcError(err: RpcError, leaderAddress: (id: number) => string | undefined): GrpcErrorShape {
  const metadata = new Metadata();
  metadata.set("raftline-error-reason", err.reason);
  const address = err.leaderId ? leaderAddress(err.leaderId) : undefined;
  if (address && isRetriable(err.code)) {
    metadata.set("raftline-leader-id", String(err.leaderId));
    metadata.set("raftline-leader-address", address);
  }
  return { code: err.code, details: err.message, metadata };
}

export function toErrorStatus(err: RpcError, leaderAddress: (id: number) => string | undefined): ErrorStatus {
  const address = err.leaderId && isRetriable(err.code) ? leaderAddress(err.leaderId) : undefined;
  return {
    code: err.code,
    reason: err.reason,
    message: err.message,
    leaderId: address ? err.leaderId : 0,
    leaderAddress: address ?? "",
  };
}

function isRetriable(code: status): boolean {
  return code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED;
}

interface ServiceErrorLike {
  code: status;
  details: string;
  metadata: Metadata;
}

function isServiceError(err: unknown): err is ServiceErrorLike {
  return (
    typeof err === "object" &&
    err !== null &&
    typeof (err as { code?: unknown }).code === "number" &&
    typeof (err as { details?: unknown }).details === "string" &&
    (err as { metadata?: unknown }).metadata instanceof Metadata
  );
}

function reasonFromMetadata(md: Metadata): Reason {
  const v = md.get("raftline-error-reason")[0];
  return typeof v === "string" && v.startsWith("ERROR_REASON_") ? (v as Reason) : "ERROR_REASON_UNSPECIFIED";
}

/** The leader hint a forwarded call's error carried, so the answer we relay keeps it. */
function leaderFromMetadata(md: Metadata): number {
  const v = md.get("raftline-leader-id")[0];
  return typeof v === "string" ? Number(v) || 0 : 0;
}
