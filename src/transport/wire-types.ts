// The shapes of proto/internal/peer.proto as @grpc/proto-loader hands them over (longs as numbers,
// enums as their names, defaults filled in, camelCase fields). Written by hand, narrowly, instead of
// generated; wire-convert.ts maps them to and from the raft core's types.

export interface WireEntry {
  term: number;
  index: number;
  type: string;
  data: Uint8Array;
}

export interface WireConfState {
  voters: number[];
  learners: number[];
}

export interface WireSnapshotMeta {
  index: number;
  term: number;
  conf: WireConfState | null;
}

export interface WireMessage {
  type: string;
  from: number;
  to: number;
  term: number;
  logTerm: number;
  index: number;
  entries: WireEntry[];
  commit: number;
  reject: boolean;
  rejectHint: number;
  rejectHintTerm: number;
  snapshot: WireSnapshotMeta | null;
  context?: string;
}

export interface WireMemberAddress {
  id: number;
  clientAddress: string;
  peerAddress: string;
}

export interface WireRaftBatch {
  messages: WireMessage[];
  members?: WireMemberAddress[];
}

export type WireRaftStreamEnd = Record<string, never>;

/** One of the two parts is set; `part` names it on decode. */
export interface WireSnapshotChunk {
  message?: WireMessage | null;
  data?: Uint8Array;
  part?: "message" | "data";
}

export interface WireInstallSnapshotResult {
  installed: boolean;
  reason: string;
}

export interface WireSetIsolated {
  isolated: boolean;
}
