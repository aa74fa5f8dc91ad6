// A minimal gRPC reflection client (grpc.reflection.v1), as grpcurl would use it: lists a server's
// services and fetches the file descriptors that define a symbol, enough to call it without .proto files.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { dirname, join } from "node:path";

const reflectionProtoRoot = join(dirname(require.resolve("@grpc/reflection")), "..", "proto");

interface ReflectionResponse {
  listServicesResponse?: { service: { name: string }[] };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  errorResponse?: { errorCode: number; errorMessage: string };
}

type ReflectionStub = grpc.Client & {
  ServerReflectionInfo(): grpc.ClientDuplexStream<Record<string, unknown>, ReflectionResponse>;
};

function stub(address: string): ReflectionStub {
  const definition = protoLoader.loadSync("grpc/reflection/v1/reflection.proto", { includeDirs: [reflectionProtoRoot], keepCase: false });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: new (address: string, creds: grpc.ChannelCredentials) => ReflectionStub } } };
  };
  return new loaded.grpc.reflection.v1.ServerReflection(address, grpc.credentials.createInsecure());
}

async function ask(address: string, request: Record<string, unknown>): Promise<ReflectionResponse> {
  const client = stub(address);
  try {
    return await new Promise<ReflectionResponse>((resolve, reject) => {
      const call = client.ServerReflectionInfo();
      call.on("data", (r: ReflectionResponse) => {
        resolve(r);
        call.end();
      });
      call.on("error", reject);
      call.write(request);
    });
  } finally {
    client.close();
  }
}

export async function listServices(address: string): Promise<string[]> {
  const r = await ask(address, { listServices: "" });
  if (!r.listServicesResponse) throw new Error(`no service list: ${r.errorResponse?.errorMessage ?? "?"}`);
  return r.listServicesResponse.service.map((s) => s.name).sort();
}

/** The descriptors that define `symbol` (and its dependencies), loaded as a package definition. */
export async function definitionOf(address: string, symbol: string): Promise<protoLoader.PackageDefinition> {
  const r = await ask(address, { fileContainingSymbol: symbol });
  if (!r.fileDescriptorResponse) throw new Error(`no descriptor for ${symbol}: ${r.errorResponse?.errorMessage ?? "?"}`);
  // A FileDescriptorSet is its files as field 1, length-delimited, one after another.
  const parts: Buffer[] = [];
  for (const file of r.fileDescriptorResponse.fileDescriptorProto) {
    parts.push(Buffer.from([0x0a]), varint(file.length), file);
  }
  return protoLoader.loadFileDescriptorSetFromBuffer(Buffer.concat(parts), { longs: Number, enums: String, defaults: true });
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n > 0x7f) {
    bytes.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  bytes.push(n);
  return Buffer.from(bytes);
}
