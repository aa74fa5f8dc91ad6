// What apply asks storage to write: plain data, added by the server to the same atomic LevelDB batch as
// the raft applied index (storage/broker-store.ts turns them into keys), so a restart never sees a state
// change without its index or the reverse.
import type { BatchIndexEntry } from "./partition-log";

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
}

export type BrokerMutation =
  | { kind: "putTopic"; topic: TopicRecord }
  /** The topic's record, written last, once none of its batches remain. */
  | { kind: "removeTopic"; topicId: number }
  | { kind: "putNextTopicId"; nextTopicId: number }
  | { kind: "putBatch"; topicId: number; partition: number; entry: BatchIndexEntry; blob: Uint8Array }
  /** Removes these batches (blob and index entry), each named by its base offset. */
  | { kind: "deleteBatches"; topicId: number; partition: number; baseOffsets: number[] };
