// What a chaos workload is: something that puts steady, bounded load on the cluster while the nemesis
// works, records what it did in the history, and at the end checks its own promises against the
// converged cluster. Producers, subscribers — and later consumer groups and queues — are each one.
// Send attempts of every producer workload are checked together by the run (checker.ts), since a record
// no producer sent can only be recognised against all of them.
import type { TopicLogs } from "./checker";
import type { History } from "./history";
import type { NodeLog, Violation } from "./model";

export interface TopicSpec {
  name: string;
  partitions: number;
}

export interface WorkloadContext {
  /** Client addresses of every node. */
  brokers: string[];
  /** Kafka listener addresses of every node. */
  kafkaBrokers: string[];
  history: History;
}

/** The cluster after the run: every node's copy of every topic, and one reference copy of each. */
export interface FinalView {
  logs: readonly NodeLog[];
  reference: TopicLogs;
}

export interface Workload {
  readonly name: string;
  /** Topics the run creates before start(); workloads may share a topic by naming it alike. */
  readonly topics: readonly TopicSpec[];
  start(ctx: WorkloadContext): void;
  /** True once the workload has succeeded at least once, so faults begin against a working system. */
  warmedUp(): boolean;
  /** Stops issuing operations, then settles or gives up what is outstanding, within a bounded time. */
  stop(): Promise<void>;
  /** This workload's own promises, checked against the converged cluster. */
  check(final: FinalView): Violation[];
  /** Counters for the report, e.g. records delivered. */
  summary(): Record<string, number>;
}

/** The topic the producer and subscriber workloads share. */
export const chaosTopic: TopicSpec = { name: "chaos", partitions: 3 };
