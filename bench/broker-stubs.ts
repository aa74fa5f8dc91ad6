// Bare generated stubs for one node, built only on the public contract: the benchmark drives the wire
// protocol itself (exact window and batch sizes) instead of going through the SDK's batching and retries.
import * as grpc from "@grpc/grpc-js";
import type { AdminClient } from "../src/generated/raftline/v1/Admin";
import type { ConsumerClient } from "../src/generated/raftline/v1/Consumer";
import type { ProducerClient } from "../src/generated/raftline/v1/Producer";
import { raftlineApi } from "../src/client/proto";

/** A Fetch answer holds up to 1 MiB of records by default; leave room for larger reads. */
const maxReceiveMessageBytes = 16 * 1024 * 1024;

export interface NodeStubs {
  address: string;
  producer: ProducerClient;
  consumer: ConsumerClient;
  admin: AdminClient;
  close(): void;
}

/** Stubs sharing one channel (one HTTP/2 connection) to `address`. */
export function stubsFor(address: string, credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure()): NodeStubs {
  const api = raftlineApi();
  const channel = new grpc.Channel(address, credentials, { "grpc.max_receive_message_length": maxReceiveMessageBytes });
  const shared = { channelOverride: channel };
  return {
    address,
    producer: new api.Producer(address, credentials, shared),
    consumer: new api.Consumer(address, credentials, shared),
    admin: new api.Admin(address, credentials, shared),
    close: () => channel.close(),
  };
}

/** One unary call as a promise, bounded by `timeoutMs`. */
export function unaryCall<T>(timeoutMs: number, start: (options: grpc.CallOptions, done: grpc.requestCallback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    start({ deadline: Date.now() + timeoutMs }, (err, value) => {
      if (err) reject(err);
      else if (value === undefined) reject(new Error("empty answer"));
      else resolve(value);
    });
  });
}
