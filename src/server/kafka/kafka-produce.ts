// Produce: each partition's RecordBatch v2s become one Raftline produce plan, proposed like the gRPC
// Produce does it (so offsets, idempotence and durability are the same). acks=-1 is QUORUM (committed on
// a majority's fsynced disk, then applied), 1 is LEADER, 0 is NONE and gets no answer. Only the leader
// takes writes: a follower answers NOT_LEADER_OR_FOLLOWER and the client refreshes its metadata.
import { BrokerError, encodeCommand, planProduce, type ProduceBatchInput, type RecordInput } from "../../broker";
import { KafkaError } from "../../kafka/protocol";
import type { ProducePartitionData, ProducePartitionResponse, ProduceRequest } from "../../kafka/produce";
import { CorruptBatch, UnsupportedCompression, decodeBatches, type DecodedBatch } from "../../kafka/record-batch-v2";
import { KafkaDecodeError } from "../../kafka/wire";
import type { Acks } from "../pending-proposals";
import { kafkaFailure } from "./kafka-errors";
import type { KafkaNode } from "./kafka-node";

/** Records one Produce partition may carry; bounds the work one request can ask for. */
export const maxRecordsPerPartition = 100_000;
/** Longest a produce waits for its commit, whatever timeout_ms the client gave. */
const maxProduceTimeoutMs = 30_000;

function acksOf(acks: number): Acks | undefined {
  if (acks === -1) return "quorum";
  if (acks === 1) return "leader";
  if (acks === 0) return "none";
  return undefined;
}

export async function produce(node: KafkaNode, req: ProduceRequest): Promise<{ name: string; partitions: ProducePartitionResponse[] }[] | null> {
  const acks = acksOf(req.acks);
  if (!acks) throw new KafkaDecodeError(`acks ${req.acks} is not -1, 0 or 1`);
  const deadlineMs = node.ctx.now() + Math.min(Math.max(req.timeoutMs, 0) || maxProduceTimeoutMs, maxProduceTimeoutMs);
  const answers = req.topics.map((topic) => ({
    name: topic.name,
    partitions: topic.partitions.map((p) => producePartition(node, req.transactionalId, topic.name, p, acks, deadlineMs)),
  }));
  const topics = await Promise.all(answers.map(async (t) => ({ name: t.name, partitions: await Promise.all(t.partitions) })));
  return acks === "none" ? null : topics;
}

function refused(partition: number, errorCode: KafkaError, message: string): ProducePartitionResponse {
  return { partition, errorCode, baseOffset: -1, logStartOffset: -1, errorMessage: message };
}

async function producePartition(
  node: KafkaNode,
  transactionalId: string | null,
  topic: string,
  data: ProducePartitionData,
  acks: Acks,
  deadlineMs: number,
): Promise<ProducePartitionResponse> {
  const { ctx } = node;
  if (!ctx.replica.isLeader) return refused(data.partition, KafkaError.NotLeaderOrFollower, `node ${ctx.config.id} is not the leader`);
  if (transactionalId !== null) return refused(data.partition, KafkaError.InvalidRequest, "transactions are not supported");
  if (data.records === null) return refused(data.partition, KafkaError.CorruptMessage, "no records");
  let batches: DecodedBatch[];
  try {
    batches = decodeBatches(data.records, node.decompress, maxRecordsPerPartition);
  } catch (err) {
    if (err instanceof UnsupportedCompression) return refused(data.partition, KafkaError.UnsupportedCompressionType, err.message);
    if (err instanceof CorruptBatch || err instanceof KafkaDecodeError) return refused(data.partition, KafkaError.CorruptMessage, err.message);
    throw err;
  }
  if (batches.some((b) => b.transactional || b.control)) {
    return refused(data.partition, KafkaError.InvalidRecord, "transactional and control batches are not supported");
  }
  try {
    const inputs = batches.map((b) => toProduceBatch(topic, data.partition, b));
    const plan = planProduce(ctx.machine.state, inputs, ctx.now(), ctx.sticky);
    const outcome = await ctx.replica.propose(encodeCommand(plan.command), acks, deadlineMs);
    countProduced(node, inputs);
    if (acks !== "quorum") return { partition: data.partition, errorCode: KafkaError.None, baseOffset: -1, logStartOffset: -1, errorMessage: null };
    const result = outcome.result;
    if (result?.kind === "error") throw result.error;
    if (result?.kind !== "produced") throw new BrokerError("FAILED_PRECONDITION", "ERROR_REASON_FAILED_PRECONDITION", `unexpected apply result ${result?.kind}`);
    const info = ctx.machine.state.partitionInfo(topic, data.partition);
    return { partition: data.partition, errorCode: KafkaError.None, baseOffset: result.batches[0].baseOffset, logStartOffset: info.startOffset, errorMessage: null };
  } catch (err) {
    const failure = kafkaFailure(err);
    return refused(data.partition, failure.errorCode, failure.message);
  }
}

/**
 * One Kafka batch as a Raftline produce batch. Kafka's null value (a tombstone) is stored as an empty
 * value; a timestamp of -1 (none) or LogAppendTime becomes the broker's time, as Raftline's 0 does.
 */
function toProduceBatch(topic: string, partition: number, batch: DecodedBatch): ProduceBatchInput {
  const records: RecordInput[] = batch.records.map((r) => {
    const record: RecordInput = { value: r.value ?? new Uint8Array(0), headers: r.headers, timestampMs: Math.max(r.timestampMs, 0) };
    if (r.key !== null) record.key = r.key;
    return record;
  });
  const input: ProduceBatchInput = { topic, partition, records };
  if (batch.producerId >= 0) {
    input.producerId = batch.producerId;
    input.producerEpoch = batch.producerEpoch;
    input.baseSequence = batch.baseSequence;
  }
  return input;
}

function countProduced(node: KafkaNode, inputs: readonly ProduceBatchInput[]): void {
  let records = 0;
  let bytes = 0;
  for (const batch of inputs) {
    records += batch.records.length;
    for (const r of batch.records) {
      bytes += r.value.length + (r.key?.length ?? 0);
      for (const h of r.headers ?? []) bytes += Buffer.byteLength(h.key) + h.value.length;
    }
  }
  node.ctx.traffic.produced(records, bytes);
}
