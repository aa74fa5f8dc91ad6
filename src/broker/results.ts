// What apply returns to the server, and what the state's queries answer. Plain data: the server turns it
// into gRPC responses and wakes waiters (long polls, subscriptions) from it.
import type { BrokerError } from "./errors";
import type { GroupResult } from "./group-table";
import type { MemberRecord } from "./member-records";
import type { ShareResult } from "./share-table";
import type { TopicRecord } from "./mutations";
import type { BatchIndexEntry } from "./partition-log";
import type { SecurityResult } from "./security-table";

/** A live topic's configuration; structurally a proto TopicConfig plus the id and creation time. */
export type TopicInfo = Omit<TopicRecord, "deleted">;

export interface PartitionInfo {
  topicId: number;
  partition: number;
  /** The lowest offset still stored. */
  startOffset: number;
  /** The offset the next record will get. */
  highWatermark: number;
  /** Bytes of stored batches. */
  bytes: number;
  batchCount: number;
}

export interface TopicDescription {
  topic: TopicInfo;
  /** Ordered by partition. */
  partitions: PartitionInfo[];
}

/** Where one produced batch went. */
export interface AppendedBatch {
  topic: string;
  partition: number;
  baseOffset: number;
  recordCount: number;
  /** Set (true) only for an idempotent batch appended before: nothing was written, baseOffset is the original's. */
  duplicate?: boolean;
}

/** A partition whose start offset retention advanced (readers below it now get OUT_OF_RANGE). */
export interface StartOffsetMove {
  topic: string;
  partition: number;
  startOffset: number;
}

export type CommandResult =
  /** The command was refused; nothing changed. */
  | { kind: "error"; error: BrokerError }
  /** An empty entry (e.g. a new leader's no-op). */
  | { kind: "noop" }
  | { kind: "topicCreated"; topic: TopicInfo }
  /** Readers of this topic should end with NOT_FOUND; its data is removed by later ticks. */
  | { kind: "topicDeleted"; topic: TopicInfo }
  /** One entry per command batch, in command order. */
  | { kind: "produced"; batches: AppendedBatch[] }
  | { kind: "producerInitialized"; producerId: number; epoch: number }
  | { kind: "ticked"; deletedBatches: number; startOffsetMoves: StartOffsetMove[] }
  | { kind: "memberRecorded"; member: MemberRecord }
  | GroupResult
  | ShareResult
  | SecurityResult;

/** Which stored batches a fetch should read, and where their bytes are. */
export interface FetchLocation {
  topicId: number;
  partition: number;
  /** The requested offset. */
  offset: number;
  startOffset: number;
  highWatermark: number;
  /** From the one holding `offset`, in offset order; none when offset == highWatermark (nothing to read yet). */
  batches: BatchIndexEntry[];
  /** Total size of those batches: at least one batch even when it alone exceeds maxBytes. */
  bytes: number;
}
