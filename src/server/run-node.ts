// One node's process: open storage, restore raft and the broker, start the peer transport, the replica
// loop and the public gRPC services; shut all of it down gracefully on SIGTERM/SIGINT.
import * as grpc from "@grpc/grpc-js";
import { setTimeout as delay } from "node:timers/promises";
import pino, { type Logger } from "pino";
import { CommandKind, StickyPartitioner, encodeCommand } from "../broker";
import { type ConfState, RawNode, Role, type RaftConfig } from "../raft";
import { RaftStore } from "../storage/raft-store";
import {
  type NodeIdentity,
  forgetPeerIncarnation,
  loadMemberAddresses,
  loadPeerIncarnations,
  saveMemberAddress,
  savePeerIncarnation,
} from "../storage/cluster-identity";
import { openDatabase, type Db } from "../storage/db";
import { PeerTransport } from "../transport/peer-transport";
import { peerServerOptions } from "../transport/transport-bounds";
import { ApplySignal } from "./apply-signal";
import { BrokerMachine } from "./broker-machine";
import { NodeConfig, selfMember } from "./config";
import { DbSnapshotSource } from "./db-snapshot-source";
import { LeaderForwarder } from "./leader-forwarder";
import { GroupCoordinator } from "./groups/group-coordinator";
import { groupsService } from "./groups/groups-service";
import { Membership } from "./membership";
import { AddressBook } from "./address-book";
import { describeClusterToJoin, type ClusterToJoin } from "./join";
import { bootstrapClusterId, resolveIdentity } from "./node-identity";
import { PeerAdmission } from "./peer-admission";
import { emitNodeEvent } from "./node-events";
import type { NodeContext } from "./node-context";
import { ProtoTypes } from "./proto-descriptors";
import { publicApi, publicPackageDefinition } from "./public-proto";
import { guardedService } from "./request-guard";
import { ReadBudget } from "./read-budget";
import { Replica } from "./replica";
import { adminService, bestFollower } from "./services/admin-service";
import { consumerService, consumerServiceDefinition, maxRecordsPerResponse } from "./services/consumer-service";
import { producerService } from "./services/producer-service";
import { waitForRole } from "./services/rpc";
import { LeaderHistory } from "./dashboard/leader-history";
import { LiveFeed } from "./dashboard/live-feed";
import { NodeHealth } from "./health";
import { startHttpServer, type HttpServer } from "./http/http-server";
import { nodeRoutes } from "./http/node-http";
import { createNodeMetrics } from "./metrics/node-metrics";
import { addReflection } from "./reflection";
import { AccessControl, commonName } from "./security/access-control";
import { NodeTls } from "./security/node-tls";
import { readSecret } from "./security/secret-file";

/** How long shutdown waits for in-flight calls (and for leadership to move) before forcing. */
export const shutdownGraceMs = 3000;
/** The part of the grace left for writes failed by the stopping replica to be answered. */
const stopAnswerMs = 500;

export interface RunningNode {
  ctx: NodeContext;
  /** host:port of the HTTP server (metrics, dashboard), when configured. */
  httpAddress?: string;
  shutdown(): Promise<void>;
}

function raftConfig(config: NodeConfig): RaftConfig {
  return {
    id: config.id,
    electionTicks: config.electionTicks,
    heartbeatTicks: config.heartbeatTicks,
    preVote: true,
    checkQuorum: true,
    maxMsgBytes: 1024 * 1024,
    maxInflightMsgs: 256,
    maxUncommittedBytes: config.maxUncommittedBytes,
    learnerCatchUpEntries: 1000,
  };
}

function bind(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<void> {
  return new Promise((resolve, reject) => server.bindAsync(address, credentials, (err) => (err ? reject(err) : resolve())));
}

function shutdownServer(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}

/** How often (in ticks) the leader looks for a learner to promote, and how long one promotion may take. */
const promoteEveryTicks = 5;
const promoteDeadlineMs = 10000;

/** Per-record wire overhead beyond what max_bytes counts (offset, timestamp, field tags), generously. */
const recordWireOverheadBytes = 64;

/**
 * The client port: answers are bounded by the read limits (so none is ever too large to send), each
 * connection by its number of open calls, and idle or frozen clients are pinged and reaped.
 */
function clientServerOptions(config: NodeConfig): grpc.ServerOptions {
  const largestRead = config.maxFetchBytes + config.maxRecordBytes + maxRecordsPerResponse * recordWireOverheadBytes;
  return {
    "grpc.max_receive_message_length": config.maxRequestBytes,
    "grpc.max_send_message_length": Math.max(config.maxRequestBytes, largestRead) + 64 * 1024,
    "grpc.max_concurrent_streams": config.maxStreamsPerConnection,
    "grpc.keepalive_time_ms": config.keepaliveMs,
    "grpc.keepalive_timeout_ms": config.keepaliveTimeoutMs,
    "grpc.max_connection_idle_ms": config.maxConnectionIdleMs,
  };
}

export async function startNode(config: NodeConfig, logger: Logger): Promise<RunningNode> {
  const me = selfMember(config);
  const tls = config.security
    ? new NodeTls(config.security, () => logger.warn({ files: [config.security?.certFile, config.security?.keyFile, config.security?.caFile] }, "certificate files unreadable; serving with the last good ones"))
    : undefined;
  const channelCredentials = (): grpc.ChannelCredentials => tls?.channelCredentials() ?? grpc.credentials.createInsecure();
  const superuserToken = config.security?.superuserTokenFile ? await readSecret(config.security.superuserTokenFile) : undefined;
  const db: Db = await openDatabase(config.dataDir, { writeBufferBytes: config.dbWriteBufferBytes });
  const joinAddress = config.join;
  let joining: ClusterToJoin | undefined;
  let identity: NodeIdentity;
  try {
    identity = await resolveIdentity(
      db,
      config.dataDir,
      config.id,
      joinAddress === undefined
        ? { joined: false, clusterId: bootstrapClusterId(config.members) }
        : { joined: true, clusterId: async () => (joining = await describeClusterToJoin(joinAddress, channelCredentials())).clusterId },
    );
  } catch (err) {
    await db.close();
    throw err;
  }
  logger.info({ clusterId: identity.clusterId, incarnation: identity.incarnation, joined: identity.joined }, "node identity");
  // A joining node knows no membership until the leader's snapshot brings it: it cannot campaign, and
  // counts in no quorum, before it has been added.
  const initialConf = identity.joined ? { voters: [], learners: [] } : { voters: config.members.map((m) => m.id), learners: [] };
  const { store, state } = await RaftStore.load(db, initialConf);
  const machine = await BrokerMachine.load(db, state.applied);
  const raft = new RawNode(raftConfig(config), state, Math.random);
  const snapshots = new DbSnapshotSource(db);
  const applied = new ApplySignal();
  const transportRef: { current?: PeerTransport } = {};
  const addressBook = new AddressBook(
    config.members.map((m) => ({ ...m })),
    (m) => transportRef.current?.setPeer(m.id, m.peerAddress),
    (m) => saveMemberAddress(db, m),
    logger,
  );
  for (const m of [...(await loadMemberAddresses(db)), ...(joining?.members ?? [])]) await addressBook.learn(m);
  const forwarder = new LeaderForwarder(addressBook.members, config.id, config.maxRequestBytes + 64 * 1024, channelCredentials);
  const clientAddressOf = (id: number): string | undefined => addressBook.get(id)?.clientAddress;

  const replicaRef: { current?: Replica<ReturnType<BrokerMachine["apply"]>> } = {};
  const admission = new PeerAdmission(
    identity,
    await loadPeerIncarnations(db),
    { save: (id, inc) => savePeerIncarnation(db, id, inc), forget: (id) => forgetPeerIncarnation(db, id) },
    logger,
    {
      isVoter: (id) => replicaRef.current?.membership.voters.includes(id) ?? state.conf.voters.includes(id),
      applied: () => replicaRef.current?.appliedIndex ?? state.applied,
    },
  );
  const transport = new PeerTransport({
    selfId: config.id,
    peers: new Map(addressBook.members.map((m) => [m.id, m.peerAddress])),
    onMessages: (msgs) => replicaRef.current?.receive(msgs),
    onSnapshot: (msg, chunks) => (replicaRef.current ? replicaRef.current.receiveSnapshot(msg, chunks) : Promise.reject(new Error("starting"))),
    onUnreachable: (id) => replicaRef.current?.reportUnreachable(id),
    logger,
    enableFaults: config.enableFaults,
    gate: admission,
    directory: addressBook,
    credentials: channelCredentials(),
    admit: config.security ? (call) => commonName(call.getAuthContext().sslPeerCertificate) === config.security?.nodePrincipal : undefined,
  });
  transportRef.current = transport;
  const replica = new Replica(
    {
      id: config.id,
      tickMs: config.tickMs,
      electionTicks: config.electionTicks,
      snapshotEntries: config.snapshotEntries,
      snapshotBytes: config.snapshotBytes,
      maxPendingProposals: 100_000,
      maxProposalBatch: 4096,
      applied: state.applied,
      conf: state.conf,
      firstIndex: state.snapshot.index + 1,
    },
    { raft, persistence: store, machine, links: transport, snapshots, logger, now: Date.now },
  );
  replicaRef.current = replica;
  replica.on("conf", (conf: ConfState) => {
    admission.membershipApplied(conf).catch((err: unknown) => logger.error({ err }, "forgetting a removed member's incarnation failed"));
  });
  replica.on("applied", () => applied.notify());
  replica.on("role", (role: Role, leader: number) => {
    logger.info({ leader }, "role changed");
    if (role === Role.Leader) emitNodeEvent({ kind: "leader", term: replica.currentTerm });
  });

  let http: HttpServer | undefined;
  const metrics = createNodeMetrics({
    nodeId: config.id,
    dataDir: config.dataDir,
    replica,
    state: () => machine.state,
  });

  const ctx: NodeContext = {
    config,
    replica,
    machine,
    db,
    forwarder,
    sticky: new StickyPartitioner(),
    applied,
    reads: new ReadBudget({
      streamBytes: config.subscribeStreamBytes,
      nodeBytes: config.subscribeNodeBytes,
      maxStreams: config.maxSubscribeStreams,
      maxLongPolls: config.maxLongPolls,
    }),
    logger,
    now: Date.now,
    traffic: metrics.traffic,
    httpAddress: () => http?.address,
    clientAddressOf,
    clusterId: identity.clusterId,
    addressBook,
  };
  if (config.security) {
    const security = config.security;
    ctx.access = new AccessControl({
      superuser: security.superuser,
      nodePrincipal: security.nodePrincipal,
      superuserToken,
      table: () => machine.state.security,
    });
  }

  const peerServer = new grpc.Server(peerServerOptions());
  transport.addTo(peerServer);
  // Peers always authenticate each other: with TLS on, the peer port takes only certificates of the CA.
  await bind(peerServer, me.peerAddress, tls?.serverCredentials(true) ?? grpc.ServerCredentials.createInsecure());

  const clientServer = new grpc.Server({ ...clientServerOptions(config), interceptors: [metrics.interceptor] });
  const health = new NodeHealth(replica);
  health.addTo(clientServer);
  addReflection(clientServer);
  const api = publicApi();
  const types = new ProtoTypes(publicPackageDefinition());
  const addGuarded = (definition: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation): void => {
    const guarded = guardedService(definition, handlers, types, clientAddressOf, ctx.access);
    clientServer.addService(guarded.definition, guarded.handlers);
  };
  addGuarded(api.Producer.service, producerService(ctx));
  addGuarded(consumerServiceDefinition(api.Consumer.service), consumerService(ctx));
  const membership = new Membership(ctx);
  addGuarded(api.Admin.service, adminService(ctx, membership));
  const groups = new GroupCoordinator(ctx);
  addGuarded(api.ConsumerGroups.service, groupsService(ctx, groups));
  const clientCredentials = tls?.serverCredentials(config.security?.requireClientCert ?? false);
  await bind(clientServer, me.clientAddress, clientCredentials ?? grpc.ServerCredentials.createInsecure());

  const leaders = new LeaderHistory(replica, Date.now);
  const feed = new LiveFeed({ ctx, leaders }, (err) => logger.warn({ err }, "dashboard feed failed"));
  if (config.httpAddress) {
    const security = config.security;
    const httpSecurity =
      security && ctx.access
        ? {
            certFile: security.certFile,
            keyFile: security.keyFile,
            reloadMs: security.certReloadMs,
            access: ctx.access,
            httpToken: security.httpTokenFile ? await readSecret(security.httpTokenFile) : undefined,
          }
        : undefined;
    http = await startHttpServer(config.httpAddress, nodeRoutes(metrics.registry, feed), (err) => logger.warn({ err }, "http request failed"), httpSecurity);
  }

  replica.start();
  // A follower may hear of a higher commit index without an apply or role change: recheck on a timer.
  const healthCheck = setInterval(() => health.check(), config.tickMs);
  groups.start();
  // Retention and producer expiry are decided in the state machine from the leader's clock and expiry
  // setting, carried in the command.
  const retention = setInterval(() => {
    if (!replica.isLeader) return;
    const tick = encodeCommand({ kind: CommandKind.Tick, nowMs: Date.now(), producerExpiryMs: config.producerExpiryMs });
    replica.propose(tick, "none", Date.now() + config.retentionCheckMs).catch(() => undefined);
  }, config.retentionCheckMs);

  // The leader makes caught-up learners voters, one at a time, unless an operator holds one back.
  let promoting = false;
  const promoter = setInterval(() => {
    if (promoting || !replica.isLeader) return;
    promoting = true;
    membership
      .promoteCaughtUp(Date.now() + promoteDeadlineMs)
      .catch((err: unknown) => logger.debug({ err }, "learner promotion not done yet"))
      .finally(() => (promoting = false));
  }, config.tickMs * promoteEveryTicks);

  logger.info({ clientAddress: me.clientAddress, peerAddress: me.peerAddress, httpAddress: http?.address, applied: state.applied }, "serving");

  const shutdown = async (): Promise<void> => {
    clearInterval(retention);
    clearInterval(promoter);
    clearInterval(healthCheck);
    health.stop();
    feed.close();
    const httpClosed = http?.close();
    groups.stop();
    if (replica.isLeader) {
      const to = bestFollower(ctx);
      if (to) {
        try {
          replica.transferLeadership(to);
          await waitForRole(ctx, () => !replica.isLeader, Date.now() + shutdownGraceMs);
        } catch (err) {
          logger.warn({ err }, "leadership transfer on shutdown failed");
        }
      }
    }
    // New calls are refused from here on. Writes still waiting after the grace period are failed by
    // replica.stop() with their true outcome (not written, or unknown), so their callers hear which before
    // the remaining calls (streams, long polls) are cut.
    const drained = shutdownServer(clientServer, shutdownGraceMs);
    await Promise.race([drained, delay(shutdownGraceMs - stopAnswerMs)]);
    await replica.stop();
    await drained;
    forwarder.close();
    await transport.close();
    peerServer.forceShutdown();
    await snapshots.close();
    await db.close();
    await httpClosed;
    logger.info("stopped");
  };
  return { ctx, httpAddress: http?.address, shutdown };
}

export async function runNode(config: NodeConfig): Promise<void> {
  // Every line carries the node's current role and term, read when the line is written.
  const view = { role: "Follower", term: 0 };
  const logger = pino({ level: config.logLevel, base: { node: config.id }, mixin: () => ({ role: view.role, term: view.term }) });
  const node = await startNode(config, logger);
  node.ctx.replica.on("role", (role: Role) => {
    view.role = Role[role];
  });
  node.ctx.replica.on("term", (term: number) => {
    view.term = term;
  });
  const me = selfMember(config);
  emitNodeEvent({ kind: "serving", clientAddress: me.clientAddress, peerAddress: me.peerAddress, httpAddress: node.httpAddress });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    node.shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("disconnect", () => stop("parent gone"));
}
