// One area of a node's metrics (rpc, raft, partitions, ...): registers its metrics on the node's registry,
// reading what it needs from the sources. Each area is its own file; node-metrics.ts lists them.
import type { Registry } from "prom-client";
import type { BrokerState } from "../../broker";
import type { Replica } from "../replica";

export interface MetricsSources {
  nodeId: number;
  dataDir: string;
  replica: Replica<unknown>;
  /** The applied broker state; read at scrape time only. */
  state(): BrokerState;
  /** True while the node's stored data is damaged or being repaired. */
  damaged(): boolean;
}

export type MetricsArea = (registry: Registry, sources: MetricsSources) => void;
