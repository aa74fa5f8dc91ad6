// A node restarted on a fresh directory after damage asks the cluster to replace it: ReplaceNode on any
// member (forwarded to the leader), so the leader drops the old incarnation's vote and adds this one as a
// learner that catches up by snapshot. If the old one is no longer a member (a replacement cut short
// between its removal and its re-adding), it asks to be added instead.
import * as grpc from "@grpc/grpc-js";
import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "pino";
import type { AdminClient } from "../generated/raftline/v1/Admin";
import type { ClusterMember } from "./config";
import { publicApi } from "./public-proto";

/** One attempt's deadline: a replacement is two membership changes, each committed by a quorum. */
export const replacementAttemptMs = 15000;
/** Pause between rounds over the members, while no quorum or leader answers. */
export const replacementRetryMs = 500;

export interface SelfReplacement {
  self: ClusterMember;
  /**
   * How to reach the members: with security on, TLS presenting this node's certificate, so that the peers
   * authenticate it as a node (no user token) and allow it to ask for its own replacement.
   */
  credentials: grpc.ChannelCredentials;
  /** Client addresses of the other members, as currently known. */
  peers(): string[];
  stopped(): boolean;
  logger: Logger;
}

function reasonOf(err: grpc.ServiceError): string {
  const v = err.metadata?.get("raftline-error-reason")[0];
  return typeof v === "string" ? v : "";
}

function call(client: AdminClient, rpc: "ReplaceNode" | "AddNode", self: ClusterMember): Promise<void> {
  const deadline = Date.now() + replacementAttemptMs;
  return new Promise((resolve, reject) => {
    const done = (err: grpc.ServiceError | null): void => (err ? reject(err) : resolve());
    if (rpc === "ReplaceNode") client.ReplaceNode({ nodeId: self.id }, { deadline }, done);
    else client.AddNode({ nodeId: self.id, clientAddress: self.clientAddress, peerAddress: self.peerAddress }, { deadline }, done);
  });
}

/** Resolves true once the cluster has replaced (or added) this node, false if stopped first. */
export async function requestSelfReplacement(r: SelfReplacement): Promise<boolean> {
  const api = publicApi();
  while (!r.stopped()) {
    for (const address of r.peers()) {
      if (r.stopped()) return false;
      const client = new api.Admin(address, r.credentials) as unknown as AdminClient;
      try {
        await call(client, "ReplaceNode", r.self);
        r.logger.info({ via: address }, "the cluster replaced this node; catching up from the leader");
        return true;
      } catch (err) {
        const e = err as grpc.ServiceError;
        if (reasonOf(e) === "ERROR_REASON_UNKNOWN_NODE") {
          try {
            await call(client, "AddNode", r.self);
            r.logger.info({ via: address }, "the cluster added this node back; catching up from the leader");
            return true;
          } catch (addErr) {
            if (reasonOf(addErr as grpc.ServiceError) === "ERROR_REASON_NODE_EXISTS") return true;
            r.logger.debug({ err: addErr, via: address }, "adding this node back failed; retrying");
          }
        } else {
          r.logger.debug({ err, via: address }, "replacement not done yet; retrying");
        }
      } finally {
        client.close();
      }
    }
    await delay(replacementRetryMs);
  }
  return false;
}
