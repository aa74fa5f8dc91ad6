// Per consumer group, from this node's applied state at scrape time (no network): members, generation,
// and per partition of the topics it reads or has offsets for, the committed offset and the lag (as
// DescribeGroup reports it, see group-lag.ts). Every node reports the same values once it has applied the
// same entries; deleted groups disappear from the next scrape.
import { Gauge } from "prom-client";
import { groupLagReader } from "../group-lag";
import type { MetricsArea } from "./metrics-area";

type PartitionLabels = "group" | "topic" | "partition";

export const groupMetrics: MetricsArea = (registry, sources) => {
  const registers = [registry];
  const partitionLabels = ["group", "topic", "partition"] as const;
  // The registry reads metrics in registration order, so the first one's collect fills them all.
  let committedOffset: Gauge<PartitionLabels> | undefined;
  let members: Gauge<"group"> | undefined;
  let generation: Gauge<"group"> | undefined;
  new Gauge({
    name: "raftline_group_lag_records",
    help: "Records of the partition the consumer group has not consumed: high watermark minus committed offset (minus log start offset when none)",
    labelNames: partitionLabels,
    registers,
    collect() {
      this.reset();
      committedOffset?.reset();
      members?.reset();
      generation?.reset();
      const state = sources.state();
      const lagsOf = groupLagReader(state);
      for (const groupId of state.groups.groupIds()) {
        const g = state.groups.group(groupId);
        members?.set({ group: groupId }, g?.members.length ?? 0);
        generation?.set({ group: groupId }, g?.generation ?? 0);
        for (const p of lagsOf(groupId)) {
          const labels = { group: groupId, topic: p.topic, partition: String(p.partition) };
          this.set(labels, p.lag);
          if (p.committed !== undefined) committedOffset?.set(labels, p.committed);
        }
      }
    },
  });
  committedOffset = new Gauge({
    name: "raftline_group_committed_offset",
    help: "The consumer group's committed offset of the partition (the next offset it will read); absent when none",
    labelNames: partitionLabels,
    registers,
  });
  members = new Gauge({ name: "raftline_group_members", help: "Members of the consumer group", labelNames: ["group"], registers });
  generation = new Gauge({ name: "raftline_group_generation", help: "The consumer group's generation (rises on every change of who owns what)", labelNames: ["group"], registers });
};
