// Builds the dead letters of a share group: each record as produced (key, value, headers, timestamp)
// followed by headers naming where it came from and why, encoded as one record batch that the
// ShareDeadLetter command appends and retires in one step.
import { ShareCommandKind, encodeRecordBatch, type DeadLetterEntry, type RecordInput, type ShareDeadLetterCommand, type ShareGroupRecord } from "../../broker";
import type { NodeContext } from "../node-context";
import { readOffsets } from "./record-reader";

export const dlqHeaders = {
  group: "raftline-dlq-group",
  sourceTopic: "raftline-dlq-source-topic",
  sourcePartition: "raftline-dlq-source-partition",
  sourceOffset: "raftline-dlq-source-offset",
  deliveryCount: "raftline-dlq-delivery-count",
  reason: "raftline-dlq-reason",
  timeMs: "raftline-dlq-time-ms",
} as const;

export interface DeadLetterPlan {
  partition: number;
  offset: number;
  deliveryCount: number;
  /** The consumer that rejected it, "" at the delivery limit. */
  rejectedBy: string;
  /** For a reject: the consumer's reason. */
  reason: string;
}

const text = (s: string | number): Uint8Array => Buffer.from(String(s), "utf8");

/** The command for these dead letters, or undefined when none of their records could be read. */
export async function deadLetterCommand(ctx: NodeContext, group: ShareGroupRecord, plans: readonly DeadLetterPlan[], nowMs: number): Promise<ShareDeadLetterCommand | undefined> {
  const entries: DeadLetterEntry[] = [];
  const records: RecordInput[] = [];
  const byPartition = new Map<number, DeadLetterPlan[]>();
  for (const p of plans) byPartition.set(p.partition, [...(byPartition.get(p.partition) ?? []), p]);
  for (const [partition, list] of byPartition) {
    const read = await readOffsets(ctx, group.topic, partition, list.map((p) => p.offset));
    for (const plan of list) {
      const r = read.get(plan.offset);
      if (!r) continue;
      const why = plan.rejectedBy === "" ? "delivery limit" : `rejected: ${plan.reason}`;
      records.push({
        key: r.key ?? null,
        value: r.value,
        timestampMs: r.timestampMs,
        headers: [
          ...r.headers,
          { key: dlqHeaders.group, value: text(group.groupId) },
          { key: dlqHeaders.sourceTopic, value: text(group.topic) },
          { key: dlqHeaders.sourcePartition, value: text(partition) },
          { key: dlqHeaders.sourceOffset, value: text(plan.offset) },
          { key: dlqHeaders.deliveryCount, value: text(plan.deliveryCount) },
          { key: dlqHeaders.reason, value: text(why) },
          { key: dlqHeaders.timeMs, value: text(nowMs) },
        ],
      });
      entries.push({ partition, offset: plan.offset, rejectedBy: plan.rejectedBy });
    }
  }
  if (entries.length === 0) return undefined;
  return { kind: ShareCommandKind.ShareDeadLetter, nowMs, groupId: group.groupId, entries, blob: encodeRecordBatch(records, nowMs) };
}
