// Client side of the fault-injection rpc, for tests and the chaos nemesis.
import * as grpc from "@grpc/grpc-js";
import { peerMethods } from "./peer-proto";

/** Isolates (or reconnects) the node whose peer port is `address`. Rejects with the gRPC error. */
export function setPeerIsolated(
  address: string,
  isolated: boolean,
  timeoutMs: number,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
): Promise<void> {
  const client = new grpc.Client(address, credentials);
  const method = peerMethods().setIsolated;
  return new Promise<void>((resolve, reject) => {
    client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      { isolated },
      new grpc.Metadata(),
      { deadline: Date.now() + timeoutMs },
      (err) => {
        client.close();
        if (err !== null) reject(err);
        else resolve();
      },
    );
  });
}
