// Every rpc of every public service, read from the loaded contract (not a hand-kept list), so a service
// added to proto/ later is fuzzed without touching the fuzzer.
import type * as protoLoader from "@grpc/proto-loader";
import type { MessageDescriptor } from "../../../src/server/proto-descriptors";
import { publicPackageDefinition } from "../../../src/server/public-proto";

export interface ContractMethod {
  /** e.g. "raftline.v1.Producer" */
  service: string;
  /** e.g. "Produce" */
  name: string;
  /** e.g. "/raftline.v1.Producer/Produce" */
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestType: MessageDescriptor;
  serialize(message: object): Buffer;
  /** Throws on bytes that do not decode. */
  deserializeRequest(bytes: Buffer): unknown;
  deserializeResponse(bytes: Buffer): unknown;
}

function isService(def: protoLoader.AnyDefinition): def is protoLoader.ServiceDefinition {
  return !("format" in def);
}

export function contractMethods(definition: protoLoader.PackageDefinition = publicPackageDefinition()): ContractMethod[] {
  const methods: ContractMethod[] = [];
  for (const [service, def] of Object.entries(definition)) {
    if (!isService(def)) continue;
    for (const [name, m] of Object.entries(def)) {
      methods.push({
        service,
        name,
        path: m.path,
        requestStream: m.requestStream,
        responseStream: m.responseStream,
        requestType: m.requestType.type as MessageDescriptor,
        serialize: (message) => m.requestSerialize(message),
        deserializeRequest: (bytes) => m.requestDeserialize(bytes),
        deserializeResponse: (bytes) => m.responseDeserialize(bytes),
      });
    }
  }
  return methods.sort((a, b) => (a.path < b.path ? -1 : 1));
}
