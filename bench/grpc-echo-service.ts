// The bare gRPC reference: one unary method that answers with the bytes it was sent. No protobuf, no
// work: what is left is grpc-js, HTTP/2 and the loopback, the floor under any unary rpc of ours.
import type * as grpc from "@grpc/grpc-js";

export const echoMethodPath = "/bench.Echo/Echo";

const same = (bytes: Buffer): Buffer => bytes;

export const echoServiceDefinition: grpc.ServiceDefinition = {
  Echo: {
    path: echoMethodPath,
    requestStream: false,
    responseStream: false,
    requestSerialize: same,
    requestDeserialize: same,
    responseSerialize: same,
    responseDeserialize: same,
  },
};

export const echoHandlers: grpc.UntypedServiceImplementation = {
  Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, call.request),
};

/** What the echo server process sends its parent once it listens. */
export interface EchoReady {
  kind: "echo-ready";
  port: number;
}

export function isEchoReady(raw: unknown): raw is EchoReady {
  return typeof raw === "object" && raw !== null && (raw as { kind?: unknown }).kind === "echo-ready";
}
