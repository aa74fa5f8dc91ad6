// Who this data directory belongs to, and which incarnation of each peer this node has talked to.
// Node-local, never part of a snapshot: keys under the raft-only prefix 0x07.
//
//   0x07 0x01             this node's identity: cluster id, node id, incarnation
//   0x07 0x02 | u64 id    the incarnation this node accepted for peer `id`
//   0x07 0x03 | u64 id    a member's client and peer addresses, learned after bootstrap
//
// The incarnation is chosen when a data directory is first used; a node whose disk was wiped comes
// back with a new one, which is how its peers tell it apart from the node that voted before.
import { readUint64BE, writeUint64BE } from "./bytes";
import type { Db } from "./db";

export const PREFIX_CLUSTER_IDENTITY = 0x07;
const IDENTITY_KEY = Buffer.from([PREFIX_CLUSTER_IDENTITY, 0x01]);
const PEER_INCARNATION_TAG = 0x02;
const MEMBER_ADDRESS_TAG = 0x03;
const PEER_KEY_BYTES = 10;

/** The key of node `id`'s entry under `tag`. */
function nodeKey(tag: number, id: number): Buffer {
  const key = Buffer.allocUnsafe(PEER_KEY_BYTES);
  key[0] = PREFIX_CLUSTER_IDENTITY;
  key[1] = tag;
  writeUint64BE(key, 2, id);
  return key;
}

/** Every key under `tag`. */
function tagRange(tag: number): { gte: Buffer; lt: Buffer } {
  return { gte: Buffer.from([PREFIX_CLUSTER_IDENTITY, tag]), lt: Buffer.from([PREFIX_CLUSTER_IDENTITY, tag + 1]) };
}

export interface NodeIdentity {
  clusterId: string;
  nodeId: number;
  incarnation: string;
  /** Started with --join: not a founding member, so it starts knowing no membership until it is added. */
  joined: boolean;
}

export async function loadIdentity(db: Db): Promise<NodeIdentity | undefined> {
  const value = await db.get(IDENTITY_KEY);
  if (value === undefined) return undefined;
  const parsed = JSON.parse(value.toString("utf8")) as Partial<NodeIdentity>;
  if (typeof parsed.clusterId !== "string" || typeof parsed.nodeId !== "number" || typeof parsed.incarnation !== "string") {
    throw new Error("stored node identity is malformed");
  }
  return { clusterId: parsed.clusterId, nodeId: parsed.nodeId, incarnation: parsed.incarnation, joined: parsed.joined === true };
}

export async function saveIdentity(db: Db, identity: NodeIdentity): Promise<void> {
  await db.put(IDENTITY_KEY, Buffer.from(JSON.stringify(identity), "utf8"), { sync: true });
}

export async function loadPeerIncarnations(db: Db): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for await (const [key, value] of db.iterator(tagRange(PEER_INCARNATION_TAG))) {
    if (key.length !== PEER_KEY_BYTES) continue;
    out.set(readUint64BE(key, 2), value.toString("utf8"));
  }
  return out;
}

/** Synced: a peer's incarnation must be remembered before anything it sent is acted upon. */
export async function savePeerIncarnation(db: Db, id: number, incarnation: string): Promise<void> {
  await db.put(nodeKey(PEER_INCARNATION_TAG, id), Buffer.from(incarnation, "utf8"), { sync: true });
}


export interface StoredMemberAddress {
  id: number;
  clientAddress: string;
  peerAddress: string;
}

/** Addresses learned after bootstrap (members added since), so a restart still reaches them. */
export async function loadMemberAddresses(db: Db): Promise<StoredMemberAddress[]> {
  const out: StoredMemberAddress[] = [];
  for await (const [key, value] of db.iterator(tagRange(MEMBER_ADDRESS_TAG))) {
    if (key.length !== PEER_KEY_BYTES) continue;
    const parsed = JSON.parse(value.toString("utf8")) as { clientAddress?: unknown; peerAddress?: unknown };
    if (typeof parsed.clientAddress !== "string" || typeof parsed.peerAddress !== "string") continue;
    out.push({ id: readUint64BE(key, 2), clientAddress: parsed.clientAddress, peerAddress: parsed.peerAddress });
  }
  return out;
}

export async function saveMemberAddress(db: Db, m: StoredMemberAddress): Promise<void> {
  await db.put(nodeKey(MEMBER_ADDRESS_TAG, m.id), Buffer.from(JSON.stringify({ clientAddress: m.clientAddress, peerAddress: m.peerAddress }), "utf8"));
}

export async function forgetPeerIncarnation(db: Db, id: number): Promise<void> {
  await db.del(nodeKey(PEER_INCARNATION_TAG, id), { sync: true });
}
