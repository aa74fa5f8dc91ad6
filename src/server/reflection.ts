// gRPC server reflection on the client port, so grpcurl and generated tooling can list and call the
// public services (and the health service) without the .proto files.
import type { Server } from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { protoPath as healthProtoPath } from "grpc-health-check";
import { dirname } from "node:path";
import { publicPackageDefinition } from "./public-proto";

export function addReflection(server: Server): void {
  // health.proto lives in grpc-health-check's own package, as health/v1/health.proto.
  const health = protoLoader.loadSync("health/v1/health.proto", { includeDirs: [dirname(dirname(dirname(healthProtoPath)))] });
  new ReflectionService({ ...publicPackageDefinition(), ...health }).addToServer(server);
}
