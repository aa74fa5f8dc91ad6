// How the test harness's own clients connect when a whole suite runs with security on (the chaos
// suite's CHAOS_SECURE=1): the SDK options and raw gRPC credentials of the superuser, and the node's own
// certificate for the peer port's fault switch. Plaintext unless a suite sets them before it starts.
import * as grpc from "@grpc/grpc-js";
import type { RaftlineClientOptions } from "../../src/client";

interface Defaults {
  client: Partial<RaftlineClientOptions>;
  credentials(): grpc.ChannelCredentials;
  peerCredentials(): grpc.ChannelCredentials;
}

const plaintext: Defaults = { client: {}, credentials: grpc.credentials.createInsecure, peerCredentials: grpc.credentials.createInsecure };
let current: Defaults = plaintext;

export function connectionDefaults(): Defaults {
  return current;
}

export function setConnectionDefaults(defaults: Defaults | undefined): void {
  current = defaults ?? plaintext;
}
