// A consumer group's partitions with their committed offset and lag, from the applied state (no network):
// what the metrics and the dashboard show. The lag is DescribeGroup's: high watermark minus committed
// offset, or minus the log start offset when nothing was committed (a new member starts at the earliest
// record).
import { tpKey, type BrokerState } from "../broker";

export interface GroupPartitionLag {
  topic: string;
  partition: number;
  /** undefined when nothing was committed. */
  committed: number | undefined;
  highWatermark: number;
  lag: number;
  /** The member that owns it now, or undefined. */
  owner: string | undefined;
}

/** The partitions of the group's members' topics and of every topic it has committed offsets for. */
export function groupPartitionLags(state: BrokerState, groupId: string): GroupPartitionLag[] {
  const view = state.topicView;
  const committed = new Map<string, number>();
  const owners = new Map<string, string>();
  const topics = new Set<string>();
  for (const m of state.groups.group(groupId)?.members ?? []) {
    for (const t of m.topics) topics.add(t);
    for (const tp of m.owned) owners.set(tpKey(tp), m.memberId);
  }
  for (const o of state.groups.committed(groupId)) {
    const name = view.topicName(o.topicId);
    if (name === undefined) continue;
    topics.add(name);
    committed.set(tpKey({ topic: name, partition: o.partition }), o.offset);
  }
  const out: GroupPartitionLag[] = [];
  for (const topic of [...topics].sort()) {
    const live = view.liveTopic(topic);
    if (!live) continue;
    for (let partition = 0; partition < live.partitions; partition++) {
      const { startOffset, highWatermark } = view.offsetRange(topic, partition);
      const key = tpKey({ topic, partition });
      const c = committed.get(key);
      out.push({ topic, partition, committed: c, highWatermark, lag: highWatermark - (c ?? startOffset), owner: owners.get(key) });
    }
  }
  return out;
}
