// Who may talk raft to this node. Every peer stream opens with the sender's cluster id, node id and
// incarnation in its metadata; the receiver refuses a stream from another cluster, or from a node id it
// knows under another incarnation (that node lost its data: letting it vote again could elect two
// leaders in one term), or from the very incarnation that was removed from the cluster (it has nothing
// left to take part in). A refusal reaches the sender as FAILED_PRECONDITION with a trailer naming why.
import * as grpc from "@grpc/grpc-js";
import type { NodeId } from "../raft/types";

export const clusterIdHeader = "raftline-cluster-id";
export const nodeIdHeader = "raftline-node-id";
export const incarnationHeader = "raftline-incarnation";
export const appliedHeader = "raftline-applied";
export const refusalHeader = "raftline-refusal";

export type RefusalKind = "cluster" | "incarnation" | "removed";

export interface PeerClaim {
  clusterId: string;
  nodeId: NodeId;
  incarnation: string;
  /** The sender's applied index when the stream opened: how much of the membership history it has seen. */
  applied: number;
}

export interface Refusal {
  kind: RefusalKind;
  message: string;
}

/** The node's side of admission: what it sends, and whether it takes what a peer claims. */
export interface PeerGate {
  /** What this node claims, as of now. */
  self(): PeerClaim;
  /** Resolves once the decision is durable: undefined admits the peer. */
  admit(claim: PeerClaim): Promise<Refusal | undefined>;
  /** A peer refused this node. */
  refused(peer: NodeId, refusal: Refusal): void;
}

export function claimMetadata(claim: PeerClaim): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set(clusterIdHeader, claim.clusterId);
  md.set(nodeIdHeader, String(claim.nodeId));
  md.set(incarnationHeader, claim.incarnation);
  md.set(appliedHeader, String(claim.applied));
  return md;
}

function one(md: grpc.Metadata, key: string): string | undefined {
  const v = md.get(key)[0];
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

export function claimFromMetadata(md: grpc.Metadata): PeerClaim | undefined {
  const clusterId = one(md, clusterIdHeader);
  const nodeId = Number(one(md, nodeIdHeader));
  const incarnation = one(md, incarnationHeader);
  const applied = Number(one(md, appliedHeader) ?? "0");
  if (clusterId === undefined || incarnation === undefined || !Number.isSafeInteger(nodeId) || nodeId < 1) return undefined;
  if (!Number.isSafeInteger(applied) || applied < 0) return undefined;
  return { clusterId, nodeId, incarnation, applied };
}

export function refusalStatus(refusal: Refusal): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  metadata.set(refusalHeader, refusal.kind);
  return { code: grpc.status.FAILED_PRECONDITION, details: refusal.message, metadata };
}

/** The refusal a failed peer call carries, if it was one. */
export function refusalOf(err: grpc.ServiceError | null): Refusal | undefined {
  if (err === null || err.code !== grpc.status.FAILED_PRECONDITION) return undefined;
  const kind = err.metadata?.get(refusalHeader)[0];
  if (kind !== "cluster" && kind !== "incarnation" && kind !== "removed") return undefined;
  return { kind, message: err.details };
}
