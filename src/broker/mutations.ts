// What apply asks storage to write: plain data, added by the server to the same atomic LevelDB batch as
// the raft applied index (storage/broker-store.ts turns them into keys), so a restart never sees a state
// change without its index or the reverse.
import type { GroupMutation } from "./group-records";
import type { MemberRecord } from "./member-records";
import type { ShareMutation } from "./share-records";
import type { BatchIndexEntry } from "./partition-log";
import type { SecurityMutation } from "./security-table";

/** A topic as stored; `deleted` topics keep their record until their data is gone. */
export interface TopicRecord {
  /** Assigned from a counter in the replicated state and never reused, so keys of a deleted topic's data never collide with a new one's. */
  id: number;
  name: string;
  partitions: number;
  /** 0 = no age limit. */
  retentionMs: number;
  /** Per partition; 0 = no size limit. */
  retentionBytes: number;
  maxRecordBytes: number;
  /** The leader's clock when the topic was created. */
  createdAtMs: number;
  deleted: boolean;
  /** The CreateTopic request id that created it; "" when the creator gave none. */
  createRequestId: string;
}

/** An idempotent producer as stored. */
export interface ProducerRecord {
  id: number;
  epoch: number;
  /** `nowMs` of the last command that initialized it or appended for it; expiry counts from here. */
  lastActiveMs: number;
}

/** One batch a producer appended, remembered to recognize a resent copy. */
export interface CachedBatch {
  baseSequence: number;
  recordCount: number;
  baseOffset: number;
  /**
   * batchFingerprint() of its records, so a batch that reuses its sequence with other records is told
   * apart from a resend. Absent for batches remembered before fingerprints were kept: any content matches.
   */
  fingerprint?: number;
}

/** A producer's sequence state on one partition. */
export interface ProducerPartitionRecord {
  producerId: number;
  topicId: number;
  partition: number;
  /** The epoch these batches were appended in; an older epoch than the producer's means "start at 0". */
  epoch: number;
  /** Oldest first, at most maxCachedBatchesPerPartition; the last one ends the sequence so far. */
  batches: CachedBatch[];
}

/** Where a producer has sequence state, to delete it with the producer. */
export interface ProducerPartitionKey {
  topicId: number;
  partition: number;
}

export type BrokerMutation =
  | { kind: "putTopic"; topic: TopicRecord }
  /** The topic's record, written last, once none of its batches remain. */
  | { kind: "removeTopic"; topicId: number }
  | { kind: "putNextTopicId"; nextTopicId: number }
  /** A batch now stored: its bytes stay where they are, in the raft entry `entry.entryIndex`. */
  | { kind: "putBatch"; topicId: number; partition: number; entry: BatchIndexEntry }
  /** Removes these batches: their index entries, and their bytes once no other batch shares the raft entry. */
  | { kind: "deleteBatches"; topicId: number; partition: number; batches: BatchIndexEntry[] }
  | { kind: "putNextProducerId"; nextProducerId: number }
  | { kind: "putProducer"; producer: ProducerRecord }
  | { kind: "putProducerPartition"; state: ProducerPartitionRecord }
  /** Removes the producer and its sequence state on each of `partitions`. */
  | { kind: "removeProducer"; producerId: number; partitions: ProducerPartitionKey[] }
  | { kind: "putMember"; member: MemberRecord }
  | GroupMutation
  | ShareMutation
  | SecurityMutation;
