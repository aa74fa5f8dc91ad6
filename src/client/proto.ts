// The public contract, compiled at build time from proto/raftline/v1 into one JSON descriptor that ships
// with the package (scripts/gen-descriptors.mjs): nothing is looked up on disk at run time. Typed by the
// declarations generated from the same files; options must match the "gen" script in package.json.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import descriptor from "../generated/raftline-v1.descriptor.json";
import type { ProtoGrpcType as AdminProto } from "../generated/admin";
import type { ProtoGrpcType as ConsumerProto } from "../generated/consumer";
import type { ProtoGrpcType as GroupsProto } from "../generated/groups";
import type { ProtoGrpcType as ProducerProto } from "../generated/producer";
import type { ProtoGrpcType as QueuesProto } from "../generated/queues";

export type RaftlineApi = (AdminProto & ConsumerProto & GroupsProto & ProducerProto & QueuesProto)["raftline"]["v1"];

let cached: RaftlineApi | undefined;

export function raftlineApi(): RaftlineApi {
  if (!cached) {
    const definition = protoLoader.fromJSON(descriptor as Parameters<typeof protoLoader.fromJSON>[0], {
      longs: Number,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as AdminProto & ConsumerProto & GroupsProto & ProducerProto & QueuesProto;
    cached = loaded.raftline.v1;
  }
  return cached;
}
