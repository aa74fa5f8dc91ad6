// A consumer group's partitions with their committed offset and lag, from the applied state (no network):
// what DescribeGroup, the metrics and the dashboard show. The lag is DescribeGroup's: high watermark minus committed
// offset, or minus the log start offset when nothing was committed (a new member starts at the earliest
// record).
import { tpKey, type BrokerState } from "../broker";

export interface GroupPartitionLag {
  topic: string;
  partition: number;
  /** undefined when nothing was committed. */
  committed: number | undefined;
  logStartOffset: number;
  highWatermark: number;
  lag: number;
  /** The member that owns it now, or undefined. */
  owner: string | undefined;
}

/**
 * Reads groups' partitions (those of its members' topics and of every topic it has committed offsets for)
 * from one applied state; topic names by id are looked up once, so reading every group stays linear.
 */
export function groupLagReader(state: BrokerState): (groupId: string) => GroupPartitionLag[] {
  const view = state.topicView;
  const names = new Map<number, string>();
  for (const t of state.listTopics()) {
    const live = view.liveTopic(t.name);
    if (live) names.set(live.id, t.name);
  }
  return (groupId) => {
    const committed = new Map<string, number>();
    const owners = new Map<string, string>();
    const topics = new Set<string>();
    for (const m of state.groups.group(groupId)?.members ?? []) {
      for (const t of m.topics) topics.add(t);
      for (const tp of m.owned) owners.set(tpKey(tp), m.memberId);
    }
    for (const o of state.groups.committed(groupId)) {
      const name = names.get(o.topicId);
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
        out.push({ topic, partition, committed: c, logStartOffset: startOffset, highWatermark, lag: highWatermark - (c ?? startOffset), owner: owners.get(key) });
      }
    }
    return out;
  };
}
