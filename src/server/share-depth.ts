// A work queue's partitions with their depth, from the applied state (no network): what
// DescribeShareGroup, the metrics and the dashboard show. The depth is the records not yet settled
// (accepted or dead-lettered), delivered or not: high watermark minus start offset minus those settled
// inside the window. A group whose topic was deleted (or recreated with fewer partitions) has no high
// watermark to count against: both are then undefined.
import type { BrokerState, SharePartitionCounts } from "../broker";

export interface SharePartitionDepth extends SharePartitionCounts {
  highWatermark: number | undefined;
  unsettled: number | undefined;
}

/** The group's partitions by state as of `nowMs`, with their depth; empty for an unknown group. */
export function shareDepths(state: BrokerState, groupId: string, nowMs: number): SharePartitionDepth[] {
  const group = state.shares.group(groupId);
  if (!group) return [];
  const live = state.topicView.liveTopic(group.topic);
  return state.shares.counts(groupId, nowMs).map((c) => {
    if (!live || live.id !== group.topicId || c.partition >= live.partitions) return { ...c, highWatermark: undefined, unsettled: undefined };
    const { highWatermark } = state.topicView.offsetRange(group.topic, c.partition);
    return { ...c, highWatermark, unsettled: Math.max(0, highWatermark - c.startOffset - c.done) };
  });
}
