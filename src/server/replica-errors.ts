// Why the replica could not take or finish a proposal. `certain` tells the caller whether the write is
// known not to have been committed (safe to retry) or its fate is unknown (a retry may duplicate it).
export type ReplicaErrorCode =
  | "NOT_LEADER"
  | "TRANSFER_IN_PROGRESS"
  | "BUSY"
  | "LOST"
  | "TIMEOUT"
  /** The write reached the log (or was sent to the leader) and then its fate could not be learned. */
  | "UNKNOWN_OUTCOME"
  | "STOPPED"
  | "REJECTED";

export class ReplicaError extends Error {
  constructor(
    readonly code: ReplicaErrorCode,
    message: string,
    /** Current leader as far as this node knows; 0 when unknown. */
    readonly leader: number,
    /** True when the write certainly did not happen. */
    readonly certain: boolean,
  ) {
    super(message);
  }
}
