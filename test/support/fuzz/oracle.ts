// What every answer must look like (proto/raftline/v1/errors.proto): a documented status; for a failure,
// a Raftline reason and a message under 1 KiB; and an invalid request is never accepted.
import { status } from "@grpc/grpc-js";
import { ErrorReason } from "../../../src/generated/raftline/v1/ErrorReason";

export interface Answer {
  code: number;
  /** The raftline-error-reason trailer (or ErrorStatus.reason); "" when absent. */
  reason: string;
  message: string;
  /** True when the client's own deadline had passed: its DEADLINE_EXCEEDED needs no reason. */
  deadlinePassed: boolean;
  /** True when the client cancelled the call itself. */
  cancelledByClient: boolean;
}

/** The status codes errors.proto documents; any other (INTERNAL, UNKNOWN, UNIMPLEMENTED…) is a defect. */
export const documentedCodes: ReadonlySet<number> = new Set([
  status.OK,
  status.INVALID_ARGUMENT,
  status.DEADLINE_EXCEEDED,
  status.NOT_FOUND,
  status.ALREADY_EXISTS,
  status.RESOURCE_EXHAUSTED,
  status.FAILED_PRECONDITION,
  status.ABORTED,
  status.OUT_OF_RANGE,
  status.UNAVAILABLE,
]);

export const maxMessageBytes = 1024;

const reasons = new Set<string>(Object.keys(ErrorReason).filter((k) => k.startsWith("ERROR_REASON_") && k !== "ERROR_REASON_UNSPECIFIED"));

/** The contract violation in `answer`, described, or undefined when it is a documented answer. */
export function violation(answer: Answer, mustRefuse: string | undefined): string | undefined {
  const name = status[answer.code] ?? String(answer.code);
  if (answer.code === status.OK) return mustRefuse ? `accepted an invalid request (${mustRefuse})` : undefined;
  const raisedByClient =
    (answer.code === status.DEADLINE_EXCEEDED && answer.deadlinePassed) || (answer.code === status.CANCELLED && answer.cancelledByClient);
  if (raisedByClient) return undefined;
  if (!documentedCodes.has(answer.code)) return `undocumented status ${name}: ${answer.message.slice(0, 200)}`;
  if (!reasons.has(answer.reason)) return `${name} without a Raftline reason (got "${answer.reason}"): ${answer.message.slice(0, 200)}`;
  const bytes = Buffer.byteLength(answer.message, "utf8");
  if (bytes >= maxMessageBytes) return `${name} ${answer.reason} with a message of ${bytes} bytes`;
  return undefined;
}

/** True when the answer says the request certainly changed nothing (see "Did my write happen?"). */
export function certainlyRefused(answer: Answer): boolean {
  if (answer.code === status.OK || answer.code === status.DEADLINE_EXCEEDED || answer.code === status.CANCELLED) return false;
  if (answer.code === status.UNAVAILABLE && answer.reason !== "ERROR_REASON_NOT_LEADER" && answer.reason !== "ERROR_REASON_NO_QUORUM") {
    return answer.reason === "ERROR_REASON_LEADER_TRANSFER" || answer.reason === "ERROR_REASON_OVERLOADED";
  }
  return true;
}

/** Refusals decided when the command is applied (producer.proto): they take a log entry, change no state. */
const applyTimeReasons: ReadonlySet<string> = new Set([
  "ERROR_REASON_UNKNOWN_PRODUCER_ID",
  "ERROR_REASON_PRODUCER_FENCED",
  "ERROR_REASON_OUT_OF_ORDER_SEQUENCE",
  "ERROR_REASON_SEQUENCE_REUSED",
  "ERROR_REASON_TOO_MANY_PRODUCERS",
]);

/**
 * True when the refusal was decided at apply, so it took a log entry. Besides the reasons above, an
 * idempotent batch whose producer_epoch is newer than any issued is refused INVALID_FIELD at apply
 * (producer.proto), told apart from the INVALID_FIELD refusals decided before proposing by its message.
 */
export function decidedAtApply(answer: Answer): boolean {
  if (applyTimeReasons.has(answer.reason)) return true;
  return answer.reason === "ERROR_REASON_INVALID_FIELD" && /^producer_epoch \d+ was never issued for producer /.test(answer.message);
}
