// Records and bytes in (produced by this node's clients) and out (sent to readers), as counters.
import { Counter, type Registry } from "prom-client";
import type { TrafficCounters } from "../traffic";

export function trafficMetrics(registry: Registry): TrafficCounters {
  const recordsIn = new Counter({ name: "raftline_records_in_total", help: "Records produced through this node", registers: [registry] });
  const bytesIn = new Counter({
    name: "raftline_bytes_in_total",
    help: "Record bytes (keys, values, headers) produced through this node",
    registers: [registry],
  });
  const recordsOut = new Counter({
    name: "raftline_records_out_total",
    help: "Records this node sent to readers, by rpc",
    labelNames: ["rpc"] as const,
    registers: [registry],
  });
  const bytesOut = new Counter({
    name: "raftline_bytes_out_total",
    help: "Encoded response bytes this node sent to readers, by rpc",
    labelNames: ["rpc"] as const,
    registers: [registry],
  });
  return {
    produced(records, bytes) {
      recordsIn.inc(records);
      bytesIn.inc(bytes);
    },
    consumed(rpc, records, bytes) {
      recordsOut.inc({ rpc }, records);
      bytesOut.inc({ rpc }, bytes);
    },
  };
}
