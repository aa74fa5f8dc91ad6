// Turning a client's produce request into one Produce command on the leader, and the applied result
// back into the shape of the public ProduceResponse. Validation happens here, before proposing, so a bad
// request never enters the log; apply re-checks what may have changed meanwhile (topic deleted).
import type { BrokerState } from "./broker-state";
import { CommandKind, ProduceCommand, ProduceCommandBatch, ProducerStamp } from "./commands";
import { BrokerError, invalidField } from "./errors";
import { StickyPartitioner, splitByPartition } from "./partitioner";
import { validateStamp } from "./producer-table";
import { RecordInput, encodeRecordBatch, readRecordBatchHeader } from "./record-batch";
import type { AppendedBatch } from "./results";
import { emptyBatch, recordTooLarge, validatePartition } from "./validation";

/** One batch of a request; structurally the generated proto ProduceBatch. */
export interface ProduceBatchInput {
  topic: string;
  /** Unset (undefined or null): chosen per record by key, keyless records sticky per batch. */
  partition?: number | null;
  records: readonly RecordInput[];
  /** Idempotent batches only (0 or absent otherwise); see producer-table.ts for the rules. */
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
}

/** One command batch's place in the request. */
export interface PlannedAppend {
  partition: number;
  recordCount: number;
  /** Indices into the request batch's records; empty when this append holds the whole batch. */
  recordIndices: number[];
}

export interface ProducePlan {
  /** Propose `encodeCommand(command)`. Its batches are the plan's appends, flattened in order. */
  command: ProduceCommand;
  /** Per request batch, in request order. */
  batches: { topic: string; appends: PlannedAppend[] }[];
}

/** Structurally the proto PartitionAppend. */
export interface PartitionAppendOutcome {
  partition: number;
  /** -1 when offsets are not known at answer time (acks other than quorum). */
  baseOffset: number;
  recordCount: number;
  recordIndices: number[];
  brokerTimestampMs: number;
  /** Set (true) only when the batch was a duplicate of one appended before. */
  duplicate?: boolean;
}

/** Structurally the proto ProduceBatchResult. */
export interface ProduceBatchOutcome {
  topic: string;
  appends: PartitionAppendOutcome[];
}

function inBatch(index: number, err: unknown): unknown {
  if (!(err instanceof BrokerError)) return err;
  return new BrokerError(err.code, err.reason, `batches[${index}]: ${err.message}`);
}

/**
 * Validates a request against the current state, chooses partitions, and encodes each partition's
 * records once. Throws BrokerError (the request should be refused, nothing proposed).
 */
export function planProduce(
  state: BrokerState,
  batches: readonly ProduceBatchInput[],
  nowMs: number,
  sticky: StickyPartitioner,
): ProducePlan {
  if (batches.length === 0) throw emptyBatch("a produce request needs at least one batch");
  const commandBatches: ProduceCommandBatch[] = [];
  const planned = batches.map((batch, index) => {
    try {
      const appends = planBatch(state, batch, nowMs, sticky, commandBatches);
      return { topic: batch.topic, appends };
    } catch (err) {
      throw inBatch(index, err);
    }
  });
  return { command: { kind: CommandKind.Produce, nowMs, batches: commandBatches }, batches: planned };
}

function planBatch(
  state: BrokerState,
  batch: ProduceBatchInput,
  nowMs: number,
  sticky: StickyPartitioner,
  out: ProduceCommandBatch[],
): PlannedAppend[] {
  const topic = state.requireTopic(batch.topic);
  if (batch.records.length === 0) throw emptyBatch("a batch needs at least one record");
  const producer = stampOf(batch);
  let splits: { partition: number; records: readonly RecordInput[]; recordIndices: number[] }[];
  if (batch.partition !== undefined && batch.partition !== null) {
    validatePartition(topic.name, batch.partition, topic.partitions);
    splits = [{ partition: batch.partition, records: batch.records, recordIndices: [] as number[] }];
  } else {
    const hasKeyless = batch.records.some((r) => !r.key);
    const keylessPartition = hasKeyless ? sticky.next(topic.name, topic.partitions) : 0;
    splits = splitByPartition(batch.records, topic.partitions, keylessPartition);
    if (splits.length === 1) splits[0].recordIndices = [];
  }
  return splits.map((split) => {
    const blob = encodeRecordBatch(split.records, nowMs);
    const { largestRecordBytes } = readRecordBatchHeader(blob);
    if (largestRecordBytes > topic.maxRecordBytes) throw recordTooLarge(topic.name, largestRecordBytes, topic.maxRecordBytes);
    const commandBatch: ProduceCommandBatch = { topic: topic.name, partition: split.partition, blob };
    if (producer) commandBatch.producer = producer;
    out.push(commandBatch);
    return { partition: split.partition, recordCount: split.records.length, recordIndices: split.recordIndices };
  });
}

/**
 * An idempotent batch's stamp, or undefined for a plain one. Its sequences count per partition, so the
 * client must choose the partition: a server-side split would give one sequence to several partitions.
 * Whether the sequence fits is decided at apply, not here: earlier batches of the same producer may
 * still be in flight.
 */
function stampOf(batch: ProduceBatchInput): ProducerStamp | undefined {
  if (!batch.producerId) return undefined;
  if (batch.partition === undefined || batch.partition === null) {
    throw invalidField("an idempotent batch (producer_id set) must name its partition");
  }
  const stamp = { producerId: batch.producerId, epoch: batch.producerEpoch ?? 0, baseSequence: batch.baseSequence ?? 0 };
  validateStamp(stamp);
  return stamp;
}

/**
 * The response's results for a plan: with the applied `produced` batches (acks quorum) offsets are
 * filled in; with `null` (acks leader/none, answered before apply) they are -1.
 */
export function produceOutcome(plan: ProducePlan, produced: readonly AppendedBatch[] | null): ProduceBatchOutcome[] {
  let commandBatch = 0;
  return plan.batches.map((batch) => ({
    topic: batch.topic,
    appends: batch.appends.map((append) => {
      const applied = produced?.[commandBatch++];
      const outcome: PartitionAppendOutcome = {
        partition: append.partition,
        baseOffset: applied ? applied.baseOffset : -1,
        recordCount: append.recordCount,
        recordIndices: append.recordIndices,
        brokerTimestampMs: plan.command.nowMs,
      };
      if (applied?.duplicate) outcome.duplicate = true;
      return outcome;
    }),
  }));
}
