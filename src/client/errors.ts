// The SDK's one error type: every failed call, whether its status came as a gRPC status with trailing
// metadata or as an ErrorStatus inside a ProduceStream response, becomes a RaftlineError carrying the same
// fields (see proto/raftline/v1/errors.proto).
import { Metadata, status } from "@grpc/grpc-js";
import { ErrorReason } from "../generated/raftline/v1/ErrorReason";
import type { ErrorStatus__Output } from "../generated/raftline/v1/ErrorStatus";

export type ErrorReasonName = Exclude<ErrorReason, number>;

export const reasonMetadataKey = "raftline-error-reason";
export const leaderIdMetadataKey = "raftline-leader-id";
export const leaderAddressMetadataKey = "raftline-leader-address";

const knownReasons = new Set<string>(Object.values(ErrorReason));

export interface RaftlineErrorFields {
  code: status;
  message: string;
  reason?: ErrorReasonName;
  leaderId?: number;
  leaderAddress?: string;
  /** The broker address the failed call went to, when known. */
  address?: string;
  /** Overrides what code and reason say (e.g. an earlier attempt of the same write was unknown). */
  outcomeUnknown?: boolean;
}

export class RaftlineError extends Error {
  /** gRPC status code number, e.g. 14 for UNAVAILABLE. */
  readonly code: status;
  /** gRPC status name, e.g. "UNAVAILABLE". */
  readonly codeName: string;
  readonly reason: ErrorReasonName;
  /** The current leader's node id, when the answering node knew it (retriable errors only). */
  readonly leaderId: number | undefined;
  /** The current leader's client address ("host:port"), alongside leaderId. */
  readonly leaderAddress: string | undefined;
  readonly address: string | undefined;
  /**
   * True when trying again may succeed. DEADLINE_EXCEEDED counts as retriable, but for a produce its
   * outcome is unknown: a retry may append the records twice.
   */
  readonly retriable: boolean;
  /**
   * For a write: true when it may have been committed all the same (see "Did my write happen?" in
   * errors.proto), false when it certainly was not. Retrying an unknown outcome may append twice, unless
   * the producer is idempotent.
   */
  readonly outcomeUnknown: boolean;

  constructor(fields: RaftlineErrorFields) {
    super(fields.message);
    this.name = "RaftlineError";
    this.code = fields.code;
    this.codeName = status[fields.code] ?? `CODE_${fields.code}`;
    this.reason = fields.reason ?? "ERROR_REASON_UNSPECIFIED";
    this.leaderId = fields.leaderId || undefined;
    this.leaderAddress = fields.leaderAddress || undefined;
    this.address = fields.address;
    this.retriable = isRetriableCode(fields.code);
    this.outcomeUnknown = fields.outcomeUnknown ?? isOutcomeUnknown(fields.code, this.reason, fields.message);
  }

  /** This error, marked as of unknown outcome (an earlier attempt of the same write was). */
  withOutcomeUnknown(): RaftlineError {
    if (this.outcomeUnknown) return this;
    const { code, message, reason, leaderId, leaderAddress, address } = this;
    return new RaftlineError({ code, message, reason, leaderId, leaderAddress, address, outcomeUnknown: true });
  }

  /** True when the error names a leader other than the node that raised it: retry there at once. */
  get redirectsElsewhere(): boolean {
    return this.leaderAddress !== undefined && this.leaderAddress !== this.address;
  }
}

/**
 * The table of errors.proto: unknown for DEADLINE_EXCEEDED, CANCELLED and UNAVAILABLE + OUTCOME_UNKNOWN,
 * and for an UNAVAILABLE the client's own transport raised (no reason) unless the call never left.
 */
export function isOutcomeUnknown(code: status, reason: ErrorReasonName, message: string): boolean {
  if (code === status.DEADLINE_EXCEEDED || code === status.CANCELLED) return true;
  if (code !== status.UNAVAILABLE) return false;
  if (reason === "ERROR_REASON_OUTCOME_UNKNOWN") return true;
  return reason === "ERROR_REASON_UNSPECIFIED" && !message.includes("No connection established");
}

export function isRetriableCode(code: status): boolean {
  return code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED;
}

/** Any thrown value → RaftlineError; grpc-js errors keep their code and trailing metadata. */
export function toRaftlineError(err: unknown, address?: string): RaftlineError {
  if (err instanceof RaftlineError) return err;
  if (isServiceErrorLike(err)) {
    const md = err.metadata;
    return new RaftlineError({
      code: err.code,
      message: err.details || err.message || status[err.code] || "error",
      reason: md ? reasonFrom(md) : undefined,
      leaderId: md ? leaderIdFrom(md) : undefined,
      leaderAddress: md ? stringFrom(md, leaderAddressMetadataKey) : undefined,
      address,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new RaftlineError({ code: status.UNKNOWN, message, address });
}

/** A ProduceStream response's in-band error. */
export function fromErrorStatus(s: ErrorStatus__Output, address?: string): RaftlineError {
  return new RaftlineError({
    code: s.code,
    message: s.message,
    reason: knownReasons.has(s.reason) ? s.reason : undefined,
    leaderId: s.leaderId,
    leaderAddress: s.leaderAddress,
    address,
  });
}

interface ServiceErrorLike {
  code: status;
  details?: string;
  message?: string;
  metadata?: Metadata;
}

function isServiceErrorLike(err: unknown): err is ServiceErrorLike {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { code?: unknown; metadata?: unknown };
  return typeof e.code === "number" && (e.metadata === undefined || e.metadata instanceof Metadata);
}

function stringFrom(md: Metadata, key: string): string | undefined {
  const v = md.get(key)[0];
  if (v === undefined) return undefined;
  const s = typeof v === "string" ? v : v.toString("utf8");
  return s.length > 0 ? s : undefined;
}

function reasonFrom(md: Metadata): ErrorReasonName | undefined {
  const v = stringFrom(md, reasonMetadataKey);
  return v !== undefined && knownReasons.has(v) ? (v as ErrorReasonName) : undefined;
}

function leaderIdFrom(md: Metadata): number | undefined {
  const v = stringFrom(md, leaderIdMetadataKey);
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v) || undefined;
}
