// Loads the public contract (proto/raftline/v1) once, typed by the generated declarations.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { join } from "node:path";
import type { ProtoGrpcType as AdminProto } from "../generated/admin";
import type { ProtoGrpcType as ConsumerProto } from "../generated/consumer";
import type { ProtoGrpcType as GroupsProto } from "../generated/groups";
import type { ProtoGrpcType as ProducerProto } from "../generated/producer";

/** The repository's proto/ folder, from dist/src/server or src/server alike. */
export const protoRoot = join(__dirname, "..", "..", "..", "proto");

/** Must match the options the TypeScript declarations were generated with (package.json "gen"). */
export const protoLoaderOptions: protoLoader.Options = {
  includeDirs: [protoRoot],
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

export type PublicApi = (AdminProto & ConsumerProto & GroupsProto & ProducerProto)["raftline"]["v1"];

let cached: PublicApi | undefined;

export function publicApi(): PublicApi {
  if (!cached) {
    const files = ["admin.proto", "consumer.proto", "groups.proto", "producer.proto"].map((f) => `raftline/v1/${f}`);
    const definition = protoLoader.loadSync(files, protoLoaderOptions);
    const loaded = grpc.loadPackageDefinition(definition) as unknown as AdminProto & ConsumerProto & GroupsProto & ProducerProto;
    cached = loaded.raftline.v1;
  }
  return cached;
}
