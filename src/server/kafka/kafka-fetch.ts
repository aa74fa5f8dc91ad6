// Fetch (a long poll over many partitions, bounded by min/max bytes and max wait, answered at once when
// a partition is in error) and ListOffsets. The stored Raftline batches are decoded (checksums verified)
// and re-encoded as uncompressed RecordBatch v2 with the same offsets, timestamps, keys, values and headers. The leader serves them: Metadata names it
// the leader of every partition, and a follower answers NOT_LEADER_OR_FOLLOWER.
import { BrokerError, decodeRecordBatch, type FetchLocation, type StoredBatch } from "../../broker";
import { KafkaError } from "../../kafka/protocol";
import {
  earliestTimestamp,
  latestTimestamp,
  type FetchPartitionResponse,
  type FetchRequest,
  type ListOffsetsPartitionResponse,
  type ListOffsetsRequest,
} from "../../kafka/fetch";
import { writeBatch } from "../../kafka/record-batch-v2";
import { KafkaWriter } from "../../kafka/wire";
import { readBatches } from "../../storage/broker-store";
import type { NodeContext } from "../node-context";
import { maxWaitMsCeiling } from "../services/consumer-service";
import { kafkaFailure } from "./kafka-errors";

type TopicAnswer = { name: string; partitions: FetchPartitionResponse[] };

export async function fetch(ctx: NodeContext, req: FetchRequest): Promise<TopicAnswer[]> {
  const maxBytes = Math.min(Math.max(req.maxBytes, 1), ctx.config.maxFetchBytes);
  const waitUntil = ctx.now() + Math.min(Math.max(req.maxWaitMs, 0), maxWaitMsCeiling);
  let endLongPoll: (() => void) | undefined;
  try {
    for (;;) {
      const timedOut = ctx.now() >= waitUntil;
      const { topics, bytes, records } = await fetchOnce(ctx, req, maxBytes);
      // A partition in error answers at once, as Kafka's broker does: waiting cannot mend an unknown
      // partition or an offset out of range, and the client should learn of it now.
      const failed = topics.some((t) => t.partitions.some((p) => p.errorCode !== KafkaError.None));
      if (bytes >= Math.max(req.minBytes, 1) || timedOut || failed || !ctx.replica.isLeader) {
        if (records > 0) ctx.traffic.consumed("kafka-fetch", records, bytes);
        return topics;
      }
      if (!endLongPoll) {
        try {
          endLongPoll = ctx.reads.beginLongPoll();
        } catch {
          return topics;
        }
      }
      await ctx.applied.next(waitUntil, ctx.now());
    }
  } finally {
    endLongPoll?.();
  }
}

async function fetchOnce(ctx: NodeContext, req: FetchRequest, maxBytes: number): Promise<{ topics: TopicAnswer[]; bytes: number; records: number }> {
  let bytes = 0;
  const tally = { records: 0 };
  const topics: TopicAnswer[] = [];
  for (const t of req.topics) {
    const partitions: FetchPartitionResponse[] = [];
    for (const p of t.partitions) {
      // Past the response budget the partition is still answered (with no records), as Kafka does.
      const budget = Math.min(Math.max(p.partitionMaxBytes, 1), maxBytes - bytes);
      const answer = await fetchPartition(ctx, t.name, p.partition, p.fetchOffset, budget, bytes === 0, tally);
      bytes += answer.records?.length ?? 0;
      partitions.push(answer);
    }
    topics.push({ name: t.name, partitions });
  }
  return { topics, bytes, records: tally.records };
}

async function fetchPartition(
  ctx: NodeContext,
  topic: string,
  partition: number,
  offset: number,
  budgetBytes: number,
  first: boolean,
  tally: { records: number },
): Promise<FetchPartitionResponse> {
  const none = (errorCode: KafkaError): FetchPartitionResponse => ({ partition, errorCode, highWatermark: -1, logStartOffset: -1, records: null });
  if (!ctx.replica.isLeader) return none(KafkaError.NotLeaderOrFollower);
  let read: { loc: FetchLocation; batches: Promise<StoredBatch[]> | undefined };
  try {
    // Located and opened together once the applied state has landed, so what is located is in storage.
    read = await ctx.replica.readLanded(() => {
      const loc = ctx.machine.state.locate(topic, partition, offset, Math.max(budgetBytes, 1));
      // Beyond the budget only the first partition still gets a batch (so a large batch cannot stall a consumer).
      const wanted = loc.batches.length > 0 && (budgetBytes > 0 || first);
      const batches = wanted ? readBatches(ctx.db, loc.batches) : undefined;
      return { loc, batches };
    });
  } catch (err) {
    return none(kafkaFailure(err).errorCode);
  }
  const { loc } = read;
  const answer: FetchPartitionResponse = { partition, errorCode: KafkaError.None, highWatermark: loc.highWatermark, logStartOffset: loc.startOffset, records: null };
  if (read.batches === undefined) return answer;
  try {
    const batches = await read.batches;
    if (batches.length === 0) throw new BrokerError("DATA_LOSS", "ERROR_REASON_CORRUPT_DATA", `offset ${loc.offset} is applied and written but missing from storage`);
    const w = new KafkaWriter(loc.bytes + 128);
    for (const b of batches) {
      const records = decodeRecordBatch(b.blob, b.baseOffset);
      writeBatch(w, b.baseOffset, records);
      tally.records += records.length;
    }
    answer.records = w.finish();
  } catch (err) {
    ctx.damage.noteIfDamage(err);
    answer.errorCode = kafkaFailure(err).errorCode;
  }
  return answer;
}

export async function listOffsets(ctx: NodeContext, req: ListOffsetsRequest): Promise<{ name: string; partitions: ListOffsetsPartitionResponse[] }[]> {
  const out = [];
  for (const t of req.topics) {
    const partitions: ListOffsetsPartitionResponse[] = [];
    for (const p of t.partitions) partitions.push(await listOffset(ctx, t.name, p.partition, p.timestamp));
    out.push({ name: t.name, partitions });
  }
  return out;
}

async function listOffset(ctx: NodeContext, topic: string, partition: number, timestamp: number): Promise<ListOffsetsPartitionResponse> {
  const answer = (errorCode: KafkaError, offset = -1, ts = -1): ListOffsetsPartitionResponse => ({ partition, errorCode, timestamp: ts, offset });
  if (!ctx.replica.isLeader) return answer(KafkaError.NotLeaderOrFollower);
  try {
    const info = ctx.machine.state.partitionInfo(topic, partition);
    if (timestamp === latestTimestamp) return answer(KafkaError.None, info.highWatermark);
    if (timestamp === earliestTimestamp) return answer(KafkaError.None, info.startOffset);
    if (timestamp < 0) return answer(KafkaError.InvalidRequest);
    // Located and read in one landed moment: the batch found in memory is in storage.
    const read = await ctx.replica.readLanded(() => {
      const batch = ctx.machine.state.batchForTimestamp(topic, partition, timestamp);
      return batch && readBatches(ctx.db, [batch]);
    });
    if (!read) return answer(KafkaError.None);
    const [stored] = await read;
    const record = stored ? decodeRecordBatch(stored.blob, stored.baseOffset).find((r) => r.timestampMs >= timestamp) : undefined;
    return record ? answer(KafkaError.None, record.offset, record.timestampMs) : answer(KafkaError.None);
  } catch (err) {
    return answer(kafkaFailure(err).errorCode);
  }
}
