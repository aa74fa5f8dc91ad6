// Loads proto/internal/peer.proto once and hands out its service and method definitions, typed by
// the narrow shapes in wire-types.ts.
import * as protoLoader from "@grpc/proto-loader";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import type {
  WireInstallSnapshotResult,
  WireRaftBatch,
  WireRaftStreamEnd,
  WireSetIsolated,
  WireSnapshotChunk,
} from "./wire-types";

const peerProtoFile = "internal/peer.proto";
const peerServiceName = "raftline.internal.Peer";
/** The compiled file sits a few folders below the repository root; how many depends on the build. */
const protoSearchLevelsMax = 6;

export interface PeerMethods {
  service: ServiceDefinition;
  raft: MethodDefinition<WireRaftBatch, WireRaftStreamEnd>;
  installSnapshot: MethodDefinition<WireSnapshotChunk, WireInstallSnapshotResult>;
  setIsolated: MethodDefinition<WireSetIsolated, WireSetIsolated>;
}

let cached: PeerMethods | undefined;

export function peerMethods(): PeerMethods {
  cached ??= load();
  return cached;
}

function load(): PeerMethods {
  const definition = protoLoader.loadSync([peerProtoFile], {
    includeDirs: [findProtoRoot(__dirname)],
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const service = definition[peerServiceName];
  if (service === undefined || !("Raft" in service) || !("InstallSnapshot" in service) || !("SetIsolated" in service)) {
    throw new Error(`${peerProtoFile} does not define ${peerServiceName} with Raft, InstallSnapshot and SetIsolated`);
  }
  const methods = service as protoLoader.ServiceDefinition;
  // The casts name the decoded shapes; proto-loader only knows them as objects.
  return {
    service: methods as unknown as ServiceDefinition,
    raft: methods.Raft as unknown as PeerMethods["raft"],
    installSnapshot: methods.InstallSnapshot as unknown as PeerMethods["installSnapshot"],
    setIsolated: methods.SetIsolated as unknown as PeerMethods["setIsolated"],
  };
}

function findProtoRoot(from: string): string {
  let dir = from;
  for (let level = 0; level < protoSearchLevelsMax; level++) {
    const candidate = join(dir, "proto");
    if (existsSync(join(candidate, peerProtoFile))) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`proto/${peerProtoFile} not found within ${protoSearchLevelsMax} levels above ${from}`);
}
