// `serve --join`: what a new node learns from a running cluster before its first start, through any
// member's public Admin port: the cluster's id and where its members are.
import * as grpc from "@grpc/grpc-js";
import { setTimeout as delay } from "node:timers/promises";
import type { DescribeClusterResponse__Output } from "../generated/raftline/v1/DescribeClusterResponse";
import type { StoredMemberAddress } from "../storage/cluster-identity";
import { ConfigError } from "./config";
import { publicApi } from "./public-proto";

export interface ClusterToJoin {
  clusterId: string;
  members: StoredMemberAddress[];
}

/** A node being started may come up a little after its peers: keep asking this long. */
export const joinDeadlineMs = 30000;
const attemptTimeoutMs = 2000;
const retryMs = 250;

export async function describeClusterToJoin(
  address: string,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  deadlineMs = Date.now() + joinDeadlineMs,
): Promise<ClusterToJoin> {
  const api = publicApi();
  const client = new api.Admin(address, credentials);
  let last = "";
  try {
    while (Date.now() < deadlineMs) {
      try {
        const res = await new Promise<DescribeClusterResponse__Output>((resolve, reject) =>
          client.DescribeCluster({}, { deadline: Date.now() + attemptTimeoutMs }, (err, r) => (err || !r ? reject(err ?? new Error("no answer")) : resolve(r))),
        );
        if (res.clusterId === "") throw new ConfigError(`${address} did not name its cluster id: it runs a server too old to join`);
        return {
          clusterId: res.clusterId,
          members: res.nodes.filter((n) => n.address !== "" && n.peerAddress !== "").map((n) => ({ id: n.id, clientAddress: n.address, peerAddress: n.peerAddress })),
        };
      } catch (err) {
        if (err instanceof ConfigError) throw err;
        last = err instanceof Error ? err.message : String(err);
        await delay(retryMs);
      }
    }
  } finally {
    client.close();
  }
  throw new ConfigError(`could not reach the cluster to join at ${address}: ${last}`);
}
