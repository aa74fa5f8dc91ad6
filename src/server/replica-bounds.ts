// Every queue, batch and window of one node's replica loop and raft core, with its unit, validated once.
// What is not here is bounded elsewhere: peer links in transport-bounds.ts, client reads in read-budget.ts,
// requests and answers by the node's config (config.ts).

export interface ReplicaBounds {
  /** Client writes waiting to be proposed or committed; beyond it a write is refused (OVERLOADED). */
  maxPendingProposals: number;
  /** Entries handed to one raft.propose call. */
  maxProposalBatch: number;
  /**
   * Peer messages waiting for the loop (they queue while a write is under way). At the bound the inbound
   * peer streams stop reading until the loop has taken them: back-pressure through gRPC flow control, so
   * the overshoot is at most one batch per peer stream.
   */
  maxInboxMessages: number;
  /** Linearizable read barriers waiting for their ReadIndex round; beyond it a read is refused (BUSY). */
  maxPendingReads: number;
  /**
   * Bytes of log entries handed to storage and not yet written (the write under way and the next). At the
   * bound the leader proposes no more client writes until a write lands: they wait, counted against
   * maxPendingProposals, while the loop goes on ticking and sending. A leader whose own disk is held back
   * (LevelDB stops writes while level 0 is full) still commits through its followers, so without this
   * its unwritten entries would grow with the stall.
   */
  maxUnwrittenBytes: number;
  /** Bytes of entries in one raft append message. */
  maxRaftMessageBytes: number;
  /** Append messages in flight to one follower, unacknowledged. */
  maxInflightMessages: number;
  /** How far (in entries) a learner may trail the leader's last index and still be promoted. */
  learnerCatchUpEntries: number;
  /** How often (in ticks) the leader looks for a caught-up learner to promote. */
  promoteEveryTicks: number;
  /** How long one promotion may take. */
  promoteDeadlineMs: number;
}

export const defaultReplicaBounds: ReplicaBounds = {
  maxPendingProposals: 100_000,
  maxProposalBatch: 4096,
  maxInboxMessages: 16_384,
  maxPendingReads: 65_536,
  maxUnwrittenBytes: 64 * 1024 * 1024,
  maxRaftMessageBytes: 1024 * 1024,
  maxInflightMessages: 256,
  learnerCatchUpEntries: 1000,
  promoteEveryTicks: 5,
  promoteDeadlineMs: 10_000,
};

export function resolveReplicaBounds(overrides: Partial<ReplicaBounds> = {}): ReplicaBounds {
  const bounds = { ...defaultReplicaBounds, ...overrides };
  for (const [name, value] of Object.entries(bounds)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`replica bound ${name} must be a positive integer: ${value}`);
  }
  if (bounds.maxProposalBatch > bounds.maxPendingProposals) throw new RangeError("maxProposalBatch exceeds maxPendingProposals");
  return bounds;
}
