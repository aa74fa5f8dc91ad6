// The identity a node runs under: which cluster its data belongs to, its node id, and the incarnation
// of its data directory. Chosen once, when the directory is first used, and checked on every start.
import { createHash, randomBytes } from "node:crypto";
import type { Db } from "../storage/db";
import { type NodeIdentity, loadIdentity, saveIdentity } from "../storage/cluster-identity";
import { type ClusterMember, ConfigError } from "./config";

/**
 * A new cluster's id follows from its bootstrap member list, so that every founding node derives the
 * same one without talking first, and bootstrap stays "start the nodes".
 */
export function bootstrapClusterId(members: readonly ClusterMember[]): string {
  const canonical = [...members]
    .sort((a, b) => a.id - b.id)
    .map((m) => `${m.id}=${m.clientAddress},${m.peerAddress}`)
    .join(";");
  return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}

export function newIncarnation(): string {
  return randomBytes(8).toString("hex");
}

/** How a directory without an identity gets one: founding the cluster, or joining a running one. */
export type IdentityOrigin = { joined: false; clusterId: string } | { joined: true; clusterId: () => Promise<string> };

/** Loads the directory's identity or creates it; refuses a directory that belongs to another node. */
export async function resolveIdentity(db: Db, dataDir: string, nodeId: number, origin: IdentityOrigin): Promise<NodeIdentity> {
  const stored = await loadIdentity(db);
  if (stored !== undefined) {
    if (stored.nodeId !== nodeId) {
      throw new ConfigError(
        `data directory ${dataDir} belongs to node ${stored.nodeId} of cluster ${stored.clusterId}, not to node ${nodeId}: ` +
          `start it with --id ${stored.nodeId}, or give node ${nodeId} its own directory`,
      );
    }
    return stored;
  }
  // A directory written before identities existed keeps its data and gets an identity now; its peers
  // learn the incarnation on first contact, as at bootstrap.
  const clusterId = origin.joined ? await origin.clusterId() : origin.clusterId;
  const identity: NodeIdentity = { clusterId, nodeId, incarnation: newIncarnation(), joined: origin.joined };
  await saveIdentity(db, identity);
  return identity;
}
