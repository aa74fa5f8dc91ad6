// Opening a node's storage, and what happens when it is damaged. A directory whose checks fail (LevelDB
// refusing to open, a raft record failing its checksum, a log with a hole, or damage recorded while
// running) is never served or voted from: it is moved aside, a fresh directory is created under a new
// incarnation, and the node asks the cluster to replace it. The replacement is a learner that receives
// the leader's snapshot and is promoted once caught up, so the repair needs a healthy quorum, and the
// node's vote is never cast from data it cannot trust.
import { rename } from "node:fs/promises";
import type * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { ConfState, RaftState } from "../raft";
import { type NodeIdentity, loadIdentity, saveIdentity } from "../storage/cluster-identity";
import { isCorruption } from "../storage/corruption";
import { type Db, type DbOptions, openDatabase } from "../storage/db";
import { checkLevelDbFiles } from "../storage/leveldb-file-check";
import { RaftStore } from "../storage/raft-store";
import { loadDamage, replacementPending, setReplacementPending } from "../storage/repair-state";
import { BrokerMachine } from "./broker-machine";
import { ConfigError, type NodeConfig } from "./config";
import { type ClusterToJoin, describeClusterToJoin } from "./join";
import { bootstrapClusterId, newIncarnation, resolveIdentity } from "./node-identity";

export interface NodeStorage {
  db: Db;
  identity: NodeIdentity;
  /** What `--join` learned from the cluster, when this start asked it. */
  joining?: ClusterToJoin;
  store: RaftStore;
  state: RaftState;
  machine: BrokerMachine;
  /** The directory replaced a damaged one: the node must still ask the cluster to replace it. */
  replacementPending: boolean;
}

/** Found while opening: the directory cannot be trusted. Carries its identity when that was readable. */
class DamagedDirectory extends Error {
  constructor(
    readonly finding: string,
    readonly identity: NodeIdentity | undefined,
  ) {
    super(finding);
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Opens the node's storage; a damaged directory is moved aside and replaced by a fresh one. */
/** `credentials`: how this node reaches the cluster it joins (TLS with its node certificate when security is on). */
export async function openNodeStorage(config: NodeConfig, logger: Logger, credentials: grpc.ChannelCredentials): Promise<NodeStorage> {
  try {
    return await openChecked(config, credentials);
  } catch (err) {
    if (!(err instanceof DamagedDirectory)) throw err;
    if (config.members.length < 2 && config.join === undefined) {
      // No peer to repair from: moving the data aside would only start an empty node that waits forever.
      throw new ConfigError(
        `stored data in ${config.dataDir} is damaged (${err.finding}) and this node has no peers to repair it from: ` +
          "restore the directory from a backup, or move it aside to start empty",
      );
    }
    const aside = `${config.dataDir}.damaged-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    logger.error(
      { finding: err.finding, movedTo: aside },
      "stored data is damaged: moving the data directory aside and rejoining as a replacement, to be repaired from the peers",
    );
    await rename(config.dataDir, aside);
    return openFresh(config, err.identity, logger, credentials);
  }
}

function initialConf(identity: NodeIdentity, config: NodeConfig): ConfState {
  // A joining (or replacing) node knows no membership until the leader's snapshot brings it: it cannot
  // campaign, and counts in no quorum, before it has been added.
  return identity.joined ? { voters: [], learners: [] } : { voters: config.members.map((m) => m.id), learners: [] };
}

function dbOptions(config: NodeConfig): DbOptions {
  return { writeBufferBytes: config.dbWriteBufferBytes, maxOpenFiles: config.dbMaxOpenFiles };
}

/** Raft's stored state and the broker's, loaded together (the broker tells raft's store which entries hold its batches). */
async function loadState(db: Db, identity: NodeIdentity, config: NodeConfig): Promise<Pick<NodeStorage, "store" | "state" | "machine">> {
  const { store, state } = await RaftStore.load(db, initialConf(identity, config));
  const machine = await BrokerMachine.load(db, state.applied, store.entryRefs, state.snapshot.index);
  return { store, state, machine };
}

async function openChecked(config: NodeConfig, credentials: grpc.ChannelCredentials): Promise<NodeStorage> {
  let db: Db;
  try {
    await checkLevelDbFiles(config.dataDir);
    db = await openDatabase(config.dataDir, dbOptions(config));
  } catch (err) {
    if (isCorruption(err)) throw new DamagedDirectory(`LevelDB cannot open the directory: ${messageOf(err)}`, undefined);
    throw err;
  }
  let joining: ClusterToJoin | undefined;
  try {
    const recorded = await loadDamage(db);
    if (recorded !== undefined) throw new DamagedDirectory(`damage found while running: ${recorded}`, await loadIdentity(db));
    const joinAddress = config.join;
    const identity = await resolveIdentity(
      db,
      config.dataDir,
      config.id,
      joinAddress === undefined
        ? { joined: false, clusterId: bootstrapClusterId(config.members) }
        : { joined: true, clusterId: async () => (joining = await describeClusterToJoin(joinAddress, credentials)).clusterId },
    );
    const storage: NodeStorage = { db, identity, ...(await loadState(db, identity, config)), replacementPending: await replacementPending(db) };
    if (joining !== undefined) storage.joining = joining;
    return storage;
  } catch (err) {
    const identity = isCorruption(err) ? await loadIdentity(db).catch(() => undefined) : undefined;
    await db.close();
    if (isCorruption(err)) throw new DamagedDirectory(messageOf(err), identity);
    throw err;
  }
}

/** A fresh directory for a node whose old one was damaged: same cluster and id, a new incarnation. */
async function openFresh(config: NodeConfig, previous: NodeIdentity | undefined, logger: Logger, credentials: grpc.ChannelCredentials): Promise<NodeStorage> {
  let joining: ClusterToJoin | undefined;
  let clusterId = previous?.clusterId;
  if (clusterId === undefined) {
    if (config.join !== undefined) {
      joining = await describeClusterToJoin(config.join, credentials);
      clusterId = joining.clusterId;
    } else {
      clusterId = bootstrapClusterId(config.members);
    }
  }
  const db = await openDatabase(config.dataDir, dbOptions(config));
  const identity: NodeIdentity = { clusterId, nodeId: config.id, incarnation: newIncarnation(), joined: true };
  await saveIdentity(db, identity);
  await setReplacementPending(db, true);
  logger.warn({ clusterId, incarnation: identity.incarnation }, "fresh data directory created; asking the cluster to replace this node");
  const storage: NodeStorage = { db, identity, ...(await loadState(db, identity, config)), replacementPending: true };
  if (joining !== undefined) storage.joining = joining;
  return storage;
}
