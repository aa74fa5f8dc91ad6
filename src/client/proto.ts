// Loads the public contract from the repository's proto/ folder at run time, typed by the declarations
// generated from the same files. Options must match the "gen" script in package.json.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ProtoGrpcType as AdminProto } from "../generated/admin";
import type { ProtoGrpcType as ConsumerProto } from "../generated/consumer";
import type { ProtoGrpcType as GroupsProto } from "../generated/groups";
import type { ProtoGrpcType as ProducerProto } from "../generated/producer";

export type RaftlineApi = (AdminProto & ConsumerProto & GroupsProto & ProducerProto)["raftline"]["v1"];

const protoFiles = ["raftline/v1/admin.proto", "raftline/v1/consumer.proto", "raftline/v1/groups.proto", "raftline/v1/producer.proto"];

/** From dist/src/client the folder is three levels up; a build in a deeper output folder needs more. */
const protoSearchLevelsMax = 6;

export function findProtoRoot(from: string = __dirname): string {
  let dir = from;
  for (let level = 0; level < protoSearchLevelsMax; level++) {
    const candidate = join(dir, "proto");
    if (existsSync(join(candidate, "raftline", "v1", "producer.proto"))) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`proto/raftline/v1 not found within ${protoSearchLevelsMax} levels above ${from}`);
}

let cached: RaftlineApi | undefined;

export function raftlineApi(): RaftlineApi {
  if (!cached) {
    const definition = protoLoader.loadSync(protoFiles, {
      includeDirs: [findProtoRoot()],
      longs: Number,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as AdminProto & ConsumerProto & GroupsProto & ProducerProto;
    cached = loaded.raftline.v1;
  }
  return cached;
}
