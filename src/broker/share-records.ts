// Share groups (work queues) as stored and as apply changes them: plain data, written by
// storage/share-store.ts. A record's lock and backoff are absolute times on the leader's clock as
// carried in the commands, so every node judges expiry the same way.

/** A share group's configuration, with defaults resolved. */
export interface ShareConfig {
  deliveryLimit: number;
  lockTimeoutMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  maxInFlightPerPartition: number;
  deadLetterTopic: string;
}

export interface ShareGroupRecord {
  groupId: string;
  topic: string;
  /** The topic's id when the group was created: a topic deleted and created again is another topic. */
  topicId: number;
  config: ShareConfig;
  createdAtMs: number;
  acceptedTotal: number;
  deadLetteredTotal: number;
}

export type ShareRecordStateName = "acquired" | "available" | "accepted" | "deadLettered";

/** A record of the window: handed out at least once, not yet below the start offset. */
export interface ShareRecordState {
  offset: number;
  /** Deliveries so far. */
  deliveryCount: number;
  state: ShareRecordStateName;
  /** The consumer that acquired it last ("" before any acquisition). */
  owner: string;
  /** When the current (or last) lock runs out. */
  lockUntilMs: number;
  /** For "available": not deliverable before this time (backoff, release delay). */
  availableAtMs: number;
}

/** Consecutive records of a window alike in everything but their offset: `count` records from `first`. */
export interface ShareRun {
  first: number;
  count: number;
  state: ShareRecordStateName;
  deliveryCount: number;
  owner: string;
  lockUntilMs: number;
  availableAtMs: number;
}

/**
 * One partition of a share group: everything below startOffset is done; [startOffset, windowEnd) is
 * tracked, as runs of the records handed out at least once (ordered by offset). Stored as one value, so
 * a command writes each partition it changed once, however many records it changed.
 */
export interface SharePartitionRecord {
  groupId: string;
  partition: number;
  startOffset: number;
  windowEnd: number;
  runs: ShareRun[];
}

export interface LoadedShares {
  groups: ShareGroupRecord[];
  partitions: SharePartitionRecord[];
  /** Records stored one per key by earlier builds; the partition's next write replaces them with its runs. */
  records: { groupId: string; partition: number; record: ShareRecordState }[];
}

export type ShareMutation =
  | { kind: "putShareGroup"; group: ShareGroupRecord }
  /** Removes the group record (its partitions and records go with their own mutations). */
  | { kind: "deleteShareGroup"; groupId: string }
  | { kind: "putSharePartition"; partition: SharePartitionRecord }
  /** A partition the group no longer has (its topic was deleted and created with fewer partitions). */
  | { kind: "deleteSharePartition"; groupId: string; partition: number }
  /** Removes records stored one per key by earlier builds. */
  | { kind: "deleteShareRecords"; groupId: string; partition: number; offsets: number[] };
