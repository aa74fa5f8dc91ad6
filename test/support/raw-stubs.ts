// Plain generated stubs for one node, with promise helpers: what any language's generated client does,
// so tests can check exact status codes, trailers and single hops without the SDK's retries.
import * as grpc from "@grpc/grpc-js";
import type { AdminClient } from "../../src/generated/raftline/v1/Admin";
import type { ConsumerClient } from "../../src/generated/raftline/v1/Consumer";
import type { ConsumerGroupsClient } from "../../src/generated/raftline/v1/ConsumerGroups";
import type { ProducerClient } from "../../src/generated/raftline/v1/Producer";
import type { ShareGroupsClient } from "../../src/generated/raftline/v1/ShareGroups";
import { publicApi } from "../../src/server/public-proto";

export interface RawStubs {
  admin: AdminClient;
  producer: ProducerClient;
  consumer: ConsumerClient;
  groups: ConsumerGroupsClient;
  shares: ShareGroupsClient;
  close(): void;
}

export const defaultCallTimeoutMs = 10000;

export function rawStubs(address: string, options: grpc.ChannelOptions = {}): RawStubs {
  const api = publicApi();
  const creds = grpc.credentials.createInsecure();
  const admin = new api.Admin(address, creds, options);
  const producer = new api.Producer(address, creds, options);
  const consumer = new api.Consumer(address, creds, options);
  const groups = new api.ConsumerGroups(address, creds, options);
  const shares = new api.ShareGroups(address, creds, options);
  return {
    admin,
    producer,
    consumer,
    groups,
    shares,
    close: () => {
      shares.close();
      groups.close();
      admin.close();
      producer.close();
      consumer.close();
    },
  };
}

/** Calls a unary method: `invoke` receives the call options (with a deadline) and the callback. */
export function unaryCall<Res>(
  invoke: (options: grpc.CallOptions, cb: grpc.requestCallback<Res>) => unknown,
  timeoutMs = defaultCallTimeoutMs,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    invoke({ deadline: Date.now() + timeoutMs }, (err, res) => {
      if (err) reject(err);
      else if (res === undefined) reject(new Error("empty response"));
      else resolve(res);
    });
  });
}

/** The failure of a call that must fail, for asserting its status and trailers. */
export async function expectError(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error("the call succeeded but was expected to fail");
}
