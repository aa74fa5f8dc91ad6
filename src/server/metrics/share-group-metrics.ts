// Per work queue (share group), from this node's applied state at scrape time: per partition the records
// of its window by state as of now (acquired, available, awaiting the dead-letter topic), its start offset
// and the records not yet settled (delivered or not: high watermark minus start offset minus those
// settled inside the window), and per group the accepted and dead-lettered totals. Every node reports
// the same values once it has applied the same entries (the states judged against this node's clock);
// deleted groups disappear from the next scrape.
import { Gauge } from "prom-client";
import { shareDepths } from "../share-depth";
import type { MetricsArea } from "./metrics-area";

type PartitionLabels = "group" | "topic" | "partition";

export const shareGroupMetrics: MetricsArea = (registry, sources) => {
  const registers = [registry];
  const partitionLabels = ["group", "topic", "partition"] as const;
  // The registry reads metrics in registration order, so the first one's collect fills them all.
  let startOffset: Gauge<PartitionLabels> | undefined;
  let unsettled: Gauge<PartitionLabels> | undefined;
  let accepted: Gauge<"group"> | undefined;
  let deadLettered: Gauge<"group"> | undefined;
  new Gauge({
    name: "raftline_share_group_records",
    help: "Records of the work queue's window by state as of the scrape: acquired (locked by a consumer), available (to be delivered again), dead_letter_pending (at the delivery limit, about to move to the dead-letter topic)",
    labelNames: ["group", "topic", "partition", "state"] as const,
    registers,
    collect() {
      this.reset();
      for (const g of [startOffset, unsettled, accepted, deadLettered]) g?.reset();
      const state = sources.state();
      const nowMs = Date.now();
      for (const groupId of state.shares.groupIds()) {
        const group = state.shares.group(groupId);
        if (!group) continue;
        accepted?.set({ group: groupId }, group.acceptedTotal);
        deadLettered?.set({ group: groupId }, group.deadLetteredTotal);
        for (const c of shareDepths(state, groupId, nowMs)) {
          const labels = { group: groupId, topic: group.topic, partition: String(c.partition) };
          this.set({ ...labels, state: "acquired" }, c.acquired);
          this.set({ ...labels, state: "available" }, c.available);
          this.set({ ...labels, state: "dead_letter_pending" }, c.deadLetterPending);
          startOffset?.set(labels, c.startOffset);
          if (c.unsettled !== undefined) unsettled?.set(labels, c.unsettled);
        }
      }
    },
  });
  startOffset = new Gauge({
    name: "raftline_share_group_start_offset",
    help: "The work queue's start offset of the partition: every record below it is accepted or dead-lettered",
    labelNames: partitionLabels,
    registers,
  });
  unsettled = new Gauge({
    name: "raftline_share_group_unsettled_records",
    help: "Records of the partition the work queue has not yet settled (accepted or dead-lettered), delivered or not: the queue's depth",
    labelNames: partitionLabels,
    registers,
  });
  accepted = new Gauge({ name: "raftline_share_group_accepted_total", help: "Records the work queue's consumers accepted since it was created", labelNames: ["group"], registers });
  deadLettered = new Gauge({
    name: "raftline_share_group_dead_lettered_total",
    help: "Records the work queue moved to its dead-letter topic since it was created",
    labelNames: ["group"],
    registers,
  });
};
