// One registry per node with every metrics area on it, the rpc interceptor and the traffic counters the
// services report to. A new area is a file exporting a MetricsArea, added to `areas`.
import type { ServerInterceptor } from "@grpc/grpc-js";
import { Registry, collectDefaultMetrics } from "prom-client";
import type { TrafficCounters } from "../traffic";
import type { MetricsArea, MetricsSources } from "./metrics-area";
import { groupMetrics } from "./group-metrics";
import { partitionMetrics } from "./partition-metrics";
import { raftMetrics } from "./raft-metrics";
import { shareGroupMetrics } from "./share-group-metrics";
import { rpcInterceptor } from "./rpc-metrics";
import { storageMetrics } from "./storage-metrics";
import { trafficMetrics } from "./traffic-metrics";

const areas: MetricsArea[] = [raftMetrics, partitionMetrics, storageMetrics, groupMetrics, shareGroupMetrics];

export interface NodeMetrics {
  registry: Registry;
  interceptor: ServerInterceptor;
  traffic: TrafficCounters;
}

export function createNodeMetrics(sources: MetricsSources): NodeMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node: String(sources.nodeId) });
  // Process metrics, event-loop lag (nodejs_eventloop_lag_seconds) among them.
  collectDefaultMetrics({ register: registry });
  const interceptor = rpcInterceptor(registry);
  const traffic = trafficMetrics(registry);
  for (const area of areas) area(registry, sources);
  return { registry, interceptor, traffic };
}
