// Per partition, from this node's applied state at scrape time: offsets and stored bytes. Deleted topics
// disappear from the next scrape.
import { Gauge } from "prom-client";
import type { MetricsArea } from "./metrics-area";

export const partitionMetrics: MetricsArea = (registry, sources) => {
  const labelNames = ["topic", "partition"] as const;
  const registers = [registry];
  // The registry reads metrics in registration order, so the first one's collect fills all three.
  let logStart: Gauge<"topic" | "partition"> | undefined;
  let size: Gauge<"topic" | "partition"> | undefined;
  new Gauge({
    name: "raftline_partition_high_watermark",
    help: "One past the last applied record's offset",
    labelNames,
    registers,
    collect() {
      this.reset();
      logStart?.reset();
      size?.reset();
      const state = sources.state();
      for (const topic of state.listTopics()) {
        for (const p of state.describeTopic(topic.name).partitions) {
          const labels = { topic: topic.name, partition: String(p.partition) };
          this.set(labels, p.highWatermark);
          logStart?.set(labels, p.startOffset);
          size?.set(labels, p.bytes);
        }
      }
    },
  });
  logStart = new Gauge({ name: "raftline_partition_log_start_offset", help: "Lowest offset still stored", labelNames, registers });
  size = new Gauge({ name: "raftline_partition_size_bytes", help: "Bytes of record batches stored for the partition", labelNames, registers });
};
