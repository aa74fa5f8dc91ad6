// Loads the public contract once from the JSON descriptor compiled at build time from proto/raftline/v1
// (scripts/gen-descriptors.mjs), typed by the generated declarations. The package definition also feeds
// server reflection.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import descriptor from "../generated/raftline-v1.descriptor.json";
import type { ProtoGrpcType as AdminProto } from "../generated/admin";
import type { ProtoGrpcType as ConsumerProto } from "../generated/consumer";
import type { ProtoGrpcType as GroupsProto } from "../generated/groups";
import type { ProtoGrpcType as ProducerProto } from "../generated/producer";
import type { ProtoGrpcType as QueuesProto } from "../generated/queues";

/** Must match the options the TypeScript declarations were generated with (package.json "gen"). */
export const protoLoaderOptions: protoLoader.Options = {
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

export type PublicApi = (AdminProto & ConsumerProto & GroupsProto & ProducerProto & QueuesProto)["raftline"]["v1"];

/** Fully qualified names of the public services, as reflection and health checks know them. */
export const publicServiceNames = ["raftline.v1.Producer", "raftline.v1.Consumer", "raftline.v1.Admin", "raftline.v1.ConsumerGroups", "raftline.v1.ShareGroups"] as const;

let definition: protoLoader.PackageDefinition | undefined;
let cached: PublicApi | undefined;

export function publicPackageDefinition(): protoLoader.PackageDefinition {
  definition ??= protoLoader.fromJSON(descriptor as Parameters<typeof protoLoader.fromJSON>[0], protoLoaderOptions);
  return definition;
}

export function publicApi(): PublicApi {
  if (!cached) {
    const loaded = grpc.loadPackageDefinition(publicPackageDefinition()) as unknown as AdminProto & ConsumerProto & GroupsProto & ProducerProto & QueuesProto;
    cached = loaded.raftline.v1;
  }
  return cached;
}
