// Loads the public contract (proto/raftline/v1) once, typed by the generated declarations.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { join } from "node:path";
import type { ProtoGrpcType as AdminProto } from "../generated/admin";
import type { ProtoGrpcType as ConsumerProto } from "../generated/consumer";
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

export type PublicApi = (AdminProto & ConsumerProto & ProducerProto)["raftline"]["v1"];

/** The files of the public contract that define services. */
export const publicProtoFiles = ["admin.proto", "consumer.proto", "producer.proto"].map((f) => `raftline/v1/${f}`);

let cachedDefinition: protoLoader.PackageDefinition | undefined;
let cached: PublicApi | undefined;

/** The contract as proto-loader describes it: every service, message and enum by full name. */
export function publicPackageDefinition(): protoLoader.PackageDefinition {
  cachedDefinition ??= protoLoader.loadSync(publicProtoFiles, protoLoaderOptions);
  return cachedDefinition;
}

export function publicApi(): PublicApi {
  if (!cached) {
    const loaded = grpc.loadPackageDefinition(publicPackageDefinition()) as unknown as AdminProto & ConsumerProto & ProducerProto;
    cached = loaded.raftline.v1;
  }
  return cached;
}
