// What the Admin API returns, as plain objects (the wire types' optional-field markers left out).
import type { NodeRole__Output } from "../generated/raftline/v1/NodeRole";
import type { NodeInfo__Output } from "../generated/raftline/v1/NodeInfo";
import type { PartitionDescription__Output } from "../generated/raftline/v1/PartitionDescription";
import type { TopicConfig__Output } from "../generated/raftline/v1/TopicConfig";

export interface TopicConfig {
  name: string;
  partitions: number;
  /** 0 = keep regardless of age. */
  retentionMs: number;
  /** Per partition; 0 = no size limit. */
  retentionBytes: number;
  maxRecordBytes: number;
}

export interface CreateTopicOptions {
  name: string;
  partitions: number;
  retentionMs?: number;
  retentionBytes?: number;
  /** 0 or absent = the server's default (1 MiB). */
  maxRecordBytes?: number;
  /**
   * Makes retries safe (see CreateTopic in admin.proto). Absent: createTopic picks a random one, so its
   * own retries after an unknown outcome find the topic they created instead of ALREADY_EXISTS.
   */
  requestId?: string;
}

export interface PartitionInfo {
  partition: number;
  startOffset: number;
  highWatermark: number;
  bytes: number;
}

export interface TopicDescription {
  topic: TopicConfig;
  partitions: PartitionInfo[];
}

export type NodeRole = NodeRole__Output;

export interface ClusterNode {
  id: number;
  address: string;
  reachable: boolean;
  role: NodeRole;
  term: number;
  commitIndex: number;
  appliedIndex: number;
  /** Entries behind the leader's log, as the leader sees it; absent for the leader or with no leader. */
  lag?: number;
  /** host:port of the node's metrics and dashboard; "" when it serves none or was unreachable. */
  httpAddress: string;
  /** A voting member; false for a learner. */
  voter: boolean;
  /** host:port of the node's raft port. */
  peerAddress: string;
  /** "" while its stored data passes its checks; else the damage found or the repair under way. */
  storageDamage: string;
  /** The incarnation the log records for this member, as the answering node applied it; "" until recorded. */
  recordedIncarnation: string;
}

export interface ClusterDescription {
  /** 0 when no leader is known. */
  leaderId: number;
  nodes: ClusterNode[];
  answeredBy: number;
  /** The cluster's id, fixed at bootstrap. */
  clusterId: string;
}

/** The membership after a change: voters and learners, ascending ids. */
export interface Membership {
  voters: number[];
  learners: number[];
}

export interface AddNodeOptions {
  nodeId: number;
  clientAddress: string;
  peerAddress: string;
  /** Keep it a learner until promoteLearner; by default the leader promotes it once caught up. */
  stayLearner?: boolean;
}

export function topicFrom(t: TopicConfig__Output | null | undefined): TopicConfig {
  return {
    name: t?.name ?? "",
    partitions: t?.partitions ?? 0,
    retentionMs: t?.retentionMs ?? 0,
    retentionBytes: t?.retentionBytes ?? 0,
    maxRecordBytes: t?.maxRecordBytes ?? 0,
  };
}

export function partitionFrom(p: PartitionDescription__Output): PartitionInfo {
  return { partition: p.partition, startOffset: p.startOffset, highWatermark: p.highWatermark, bytes: p.bytes };
}

export function nodeFrom(n: NodeInfo__Output): ClusterNode {
  const node: ClusterNode = {
    id: n.id,
    address: n.address,
    reachable: n.reachable,
    role: n.role,
    term: n.term,
    commitIndex: n.commitIndex,
    appliedIndex: n.appliedIndex,
    httpAddress: n.httpAddress,
    voter: n.voter,
    peerAddress: n.peerAddress,
    storageDamage: n.storageDamage,
    recordedIncarnation: n.recordedIncarnation,
  };
  if (n.lag !== undefined && n.lag !== null) node.lag = n.lag;
  return node;
}
