// The `raftline` command's exit codes, and how a failure maps to one (documented in README.md).
import { RaftlineError } from "../client";

export const exitCodes = {
  ok: 0,
  /** The cluster refused or failed the request (the message names the gRPC status and reason). */
  failed: 1,
  /** Bad usage: an unknown command or option, a malformed value. */
  usage: 2,
  /** No broker could be reached, or none answered in time. */
  unreachable: 3,
} as const;

export class UsageError extends Error {}

export function describeFailure(err: unknown): { message: string; code: number } {
  if (err instanceof UsageError) return { message: err.message, code: exitCodes.usage };
  if (err instanceof RaftlineError) {
    const unreachable = err.codeName === "UNAVAILABLE" || err.codeName === "DEADLINE_EXCEEDED";
    const reason = err.reason === "ERROR_REASON_UNSPECIFIED" ? "" : ` ${err.reason.replace("ERROR_REASON_", "")}`;
    return { message: `${err.codeName}${reason}: ${err.message}`, code: unreachable ? exitCodes.unreachable : exitCodes.failed };
  }
  return { message: err instanceof Error ? err.message : String(err), code: exitCodes.failed };
}
