// Deciding which batches a Tick removes. Whole batches only, oldest first, and never a partition's newest
// batch, so a partition that ever held records always keeps its offsets (start and high watermark)
// recoverable from its stored index alone.
import type { TopicRecord } from "./mutations";
import type { BatchIndexEntry, PartitionLog } from "./partition-log";

/**
 * Bound on batches one Tick deletes, so one apply writes a bounded LevelDB batch; the rest waits for
 * the next Tick. A constant of the replicated logic: changing it changes what a Tick does.
 */
export const maxBatchDeletesPerTick = 10_000;

function expired(log: PartitionLog, topic: TopicRecord, nowMs: number): boolean {
  if (log.batchCount <= 1) return false;
  const oldest = log.entry(0);
  const tooOld = topic.retentionMs > 0 && nowMs - oldest.maxTimestampMs > topic.retentionMs;
  const tooBig = topic.retentionBytes > 0 && log.bytes > topic.retentionBytes;
  return tooOld || tooBig;
}

/** Drops the batches retention expires, at most `budget`, and returns them. */
export function expireBatches(log: PartitionLog, topic: TopicRecord, nowMs: number, budget: number): BatchIndexEntry[] {
  const removed: BatchIndexEntry[] = [];
  while (removed.length < budget && expired(log, topic, nowMs)) removed.push(log.dropOldest());
  return removed;
}

/** Drops up to `budget` batches of a deleted topic's partition and returns them. */
export function drainBatches(log: PartitionLog, budget: number): BatchIndexEntry[] {
  const removed: BatchIndexEntry[] = [];
  while (removed.length < budget && log.batchCount > 0) removed.push(log.dropOldest());
  return removed;
}
