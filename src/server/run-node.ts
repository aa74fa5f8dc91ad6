// One node's process: open storage, restore raft and the broker, start the peer transport, the replica
// loop and the public gRPC services; shut all of it down gracefully on SIGTERM/SIGINT.
import * as grpc from "@grpc/grpc-js";
import { setTimeout as delay } from "node:timers/promises";
import pino, { type Logger } from "pino";
import { CommandKind, StickyPartitioner, encodeCommand } from "../broker";
import { type ConfState, RawNode, Role, type RaftConfig } from "../raft";
import {
  forgetPeerIncarnation,
  loadMemberAddresses,
  loadPeerIncarnations,
  saveMemberAddress,
  savePeerIncarnation,
} from "../storage/cluster-identity";
import { PeerTransport } from "../transport/peer-transport";
import { peerServerOptions } from "../transport/transport-bounds";
import { ApplySignal } from "./apply-signal";
import { BrokerMachine } from "./broker-machine";
import { NodeConfig, selfMember } from "./config";
import { DbSnapshotSource } from "./db-snapshot-source";
import { watchLoopStalls } from "./loop-stall-watch";
import { LeaderForwarder } from "./leader-forwarder";
import { GroupCoordinator } from "./groups/group-coordinator";
import { groupsService } from "./groups/groups-service";
import { ShareDispatcher } from "./queues/share-dispatcher";
import { shareGroupsServiceDefinition } from "./queues/delivery-wire";
import { shareGroupsService } from "./queues/share-service";
import { Membership } from "./membership";
import { AddressBook } from "./address-book";
import { openNodeStorage } from "./disk-repair";
import { requestSelfReplacement } from "./self-replacement";
import { StorageDamage } from "./storage-damage";
import { setReplacementPending } from "../storage/repair-state";
import { PeerAdmission } from "./peer-admission";
import { emitNodeEvent } from "./node-events";
import type { NodeContext } from "./node-context";
import { ProtoTypes } from "./proto-descriptors";
import { publicApi, publicPackageDefinition } from "./public-proto";
import { guardedService } from "./request-guard";
import { ReadBudget } from "./read-budget";
import { exitOnFatal, nodeLoopClock } from "./node-loop-clock";
import { Replica } from "./replica";
import { type ReplicaBounds, resolveReplicaBounds } from "./replica-bounds";
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
import { startKafkaServer, type KafkaServer } from "./kafka/kafka-server";
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
  /** host:port of the Kafka-protocol listener, when configured. */
  kafkaAddress?: string;
  shutdown(): Promise<void>;
  /** Settles with why, once this node applied its own removal, or a peer refused it as removed. */
  removed: Promise<string>;
}

function raftConfig(config: NodeConfig, bounds: ReplicaBounds): RaftConfig {
  return {
    id: config.id,
    electionTicks: config.electionTicks,
    heartbeatTicks: config.heartbeatTicks,
    preVote: true,
    checkQuorum: true,
    maxMsgBytes: bounds.maxRaftMessageBytes,
    maxInflightMsgs: bounds.maxInflightMessages,
    maxUncommittedBytes: config.maxUncommittedBytes,
    learnerCatchUpEntries: bounds.learnerCatchUpEntries,
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
  const { db, identity, joining, store, state, machine, replacementPending } = await openNodeStorage(config, logger, channelCredentials());
  logger.info({ clusterId: identity.clusterId, incarnation: identity.incarnation, joined: identity.joined }, "node identity");
  const damage = new StorageDamage(db, logger);
  if (replacementPending) damage.repairing("restarted on a fresh data directory after damage; waiting to be replaced and to catch up from the leader");
  const bounds = resolveReplicaBounds();
  const raft = new RawNode(raftConfig(config, bounds), state, Math.random);
  const snapshots = new DbSnapshotSource(db, store.entryRefs, (finding) => void damage.report(finding));
  const applied = new ApplySignal();
  const transportRef: { current?: PeerTransport } = {};
  const forwarderRef: { current?: LeaderForwarder } = {};
  const addressBook = new AddressBook(
    config.members.map((m) => ({ ...m })),
    (m) => {
      transportRef.current?.setPeer(m.id, m.peerAddress);
      forwarderRef.current?.forget(m.id);
    },
    (m) => saveMemberAddress(db, m),
    logger,
  );
  for (const m of [...(await loadMemberAddresses(db)), ...(joining?.members ?? [])]) await addressBook.learn(m);
  const forwarder = new LeaderForwarder(addressBook.members, config.id, config.maxRequestBytes + 64 * 1024, channelCredentials);
  forwarderRef.current = forwarder;
  const clientAddressOf = (id: number): string | undefined => addressBook.get(id)?.clientAddress;

  const replicaRef: { current?: Replica<ReturnType<BrokerMachine["apply"]>> } = {};
  const admission = new PeerAdmission(
    identity,
    await loadPeerIncarnations(db),
    { save: (id, inc) => savePeerIncarnation(db, id, inc), forget: (id) => forgetPeerIncarnation(db, id) },
    logger,
    {
      isVoter: (id) => replicaRef.current?.membership.voters.includes(id) ?? state.conf.voters.includes(id),
      isMember: (id) => {
        const conf = replicaRef.current?.membership ?? state.conf;
        return conf.voters.includes(id) || conf.learners.includes(id);
      },
      applied: () => replicaRef.current?.appliedIndex ?? state.applied,
      recorded: (id) => machine.state.member(id)?.incarnation,
    },
  );
  const transport = new PeerTransport({
    selfId: config.id,
    peers: new Map(addressBook.members.map((m) => [m.id, m.peerAddress])),
    onMessages: (msgs) => replicaRef.current?.receive(msgs) ?? true,
    onSnapshot: (msg, chunks) => (replicaRef.current ? replicaRef.current.receiveSnapshot(msg, chunks) : Promise.reject(new Error("starting"))),
    onUnreachable: (id) => replicaRef.current?.reportUnreachable(id),
    onConnectionLost: (id) => replicaRef.current?.reportConnectionLost(id),
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
      maxPendingProposals: bounds.maxPendingProposals,
      maxProposalBatch: bounds.maxProposalBatch,
      maxInboxMessages: bounds.maxInboxMessages,
      maxPendingReads: bounds.maxPendingReads,
      maxUnwrittenBytes: bounds.maxUnwrittenBytes,
      applied: state.applied,
      appliedTerm: store.termAt(state.applied) ?? state.snapshot.term,
      conf: state.conf,
      firstIndex: state.snapshot.index + 1,
    },
    { raft, persistence: store, machine, links: transport, snapshots, logger, clock: nodeLoopClock, fatal: exitOnFatal(logger) },
  );
  replicaRef.current = replica;
  // A node learns it was removed by applying its removal, or — since the leader stops sending to a
  // removed node, which may then never learn that its removal committed — from a peer refusing it.
  let removedFrom: (why: string) => void = () => undefined;
  const removed = new Promise<string>((resolve) => (removedFrom = resolve));
  admission.onRemoved((why) => removedFrom(why));
  replica.on("conf", (conf: ConfState) => {
    admission.membershipApplied(conf).catch((err: unknown) => logger.error({ err }, "forgetting a removed member's incarnation failed"));
    // Only a removal while the log's record names this very incarnation is about this node: one re-added
    // under the same id replays the removals of its earlier incarnations on the way.
    const member = conf.voters.includes(config.id) || conf.learners.includes(config.id);
    if (!member && machine.state.member(config.id)?.incarnation === identity.incarnation) {
      removedFrom(`node ${config.id} (incarnation ${identity.incarnation}) was removed from cluster ${identity.clusterId}`);
    }
  });
  // Every node moves a member in its address book when it applies the record that moved it.
  let addressesSeen = { state: machine.state, version: -1 };
  replica.on("applied", () => {
    applied.notify();
    const s = machine.state;
    if (addressesSeen.state === s && addressesSeen.version === s.membersVersion) return;
    addressesSeen = { state: s, version: s.membersVersion };
    for (const m of s.members()) addressBook.place(m).catch((err: unknown) => logger.error({ err, id: m.id }, "saving a member address failed"));
  });
  replica.on("inboxDrained", () => transport.resumeInbound());
  replica.on("role", (role: Role, leader: number) => {
    // Role and term as of this change (the line's own fields win over the logger's mixin, which may lag):
    // the chaos suite reads these lines to check that no term had two leaders.
    logger.info({ leader, role: Role[role], term: replica.currentTerm }, "role changed");
    if (role === Role.Leader) emitNodeEvent({ kind: "leader", term: replica.currentTerm });
  });

  let http: HttpServer | undefined;
  const metrics = createNodeMetrics({
    nodeId: config.id,
    dataDir: config.dataDir,
    replica,
    state: () => machine.state,
    damaged: () => damage.unhealthy,
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
    damage,
  };
  if (config.security) {
    const security = config.security;
    ctx.access = new AccessControl({
      superuser: security.superuser,
      nodePrincipal: security.nodePrincipal,
      superuserToken,
      table: () => machine.state.security,
    });
    const access = ctx.access;
    replica.on("applied", () => {
      const ended = access.securityApplied();
      if (ended > 0) logger.info({ ended }, "ended open streams whose principal lost its token or a permission they use");
    });
  }

  const peerServer = new grpc.Server(peerServerOptions());
  transport.addTo(peerServer);
  // Peers always authenticate each other: with TLS on, the peer port takes only certificates of the CA.
  await bind(peerServer, me.peerAddress, tls?.serverCredentials(true) ?? grpc.ServerCredentials.createInsecure());

  const clientServer = new grpc.Server({ ...clientServerOptions(config), interceptors: [metrics.interceptor] });
  const health = new NodeHealth(replica, () => damage.unhealthy);
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
  const membership = new Membership(ctx, admission);
  addGuarded(api.Admin.service, adminService(ctx, membership));
  const groups = new GroupCoordinator(ctx);
  addGuarded(api.ConsumerGroups.service, groupsService(ctx, groups));
  // Waiting Pop calls are long polls too: they share the long-poll bound.
  const shares = new ShareDispatcher(ctx, config.maxLongPolls);
  addGuarded(shareGroupsServiceDefinition(api.ShareGroups.service), shareGroupsService(ctx, shares));
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

  let kafka: KafkaServer | undefined;
  if (config.kafkaAddress) kafka = await startKafkaServer(ctx, config.kafkaAddress, logger);

  replica.start();
  // A follower may hear of a higher commit index without an apply or role change: recheck on a timer.
  const healthCheck = setInterval(() => health.check(), config.tickMs);
  // Half an election timeout held is half of what a follower waits before it campaigns.
  const stopStallWatch = watchLoopStalls(logger, (config.tickMs * config.electionTicks) / 2, config.tickMs);
  groups.start();
  shares.start();
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
      .recordIncarnations(Date.now() + bounds.promoteDeadlineMs)
      .then(() => membership.promoteCaughtUp(Date.now() + bounds.promoteDeadlineMs))
      .catch((err: unknown) => logger.debug({ err }, "learner promotion not done yet"))
      .finally(() => (promoting = false));
  }, config.tickMs * bounds.promoteEveryTicks);

  logger.info({ clientAddress: me.clientAddress, peerAddress: me.peerAddress, httpAddress: http?.address, kafkaAddress: kafka?.address, applied: state.applied }, "serving");

  let stopped = false;
  if (replacementPending) {
    const peers = (): string[] =>
      [...addressBook.members.filter((m) => m.id !== config.id).map((m) => m.clientAddress), ...(config.join ? [config.join] : [])];
    requestSelfReplacement({ self: me, credentials: channelCredentials(), peers, stopped: () => stopped, logger })
      .then(async (done) => {
        if (!done) return;
        await setReplacementPending(db, false);
        // Reads wait for the leader's snapshot, which brings the whole state at once.
        const caughtUp = (): void => {
          if (replica.appliedIndex === 0) return;
          replica.off("applied", caughtUp);
          damage.repaired();
          logger.info({ applied: replica.appliedIndex }, "repaired from the peers: serving again");
          health.check();
        };
        replica.on("applied", caughtUp);
        caughtUp();
      })
      .catch((err: unknown) => logger.error({ err }, "asking the cluster to replace this node failed"));
  }

  const shutdown = async (): Promise<void> => {
    stopped = true;
    clearInterval(retention);
    clearInterval(promoter);
    clearInterval(healthCheck);
    stopStallWatch();
    health.stop();
    feed.close();
    const httpClosed = http?.close();
    groups.stop();
    shares.stop();
    const kafkaClosed = kafka?.close();
    if (replica.isLeader) {
      const to = bestFollower(ctx);
      if (to) {
        try {
          await replica.transferLeadership(to);
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
    await kafkaClosed;
    logger.info("stopped");
  };
  return { ctx, httpAddress: http?.address, kafkaAddress: kafka?.address, shutdown, removed };
}

export async function runNode(config: NodeConfig): Promise<void> {
  // Every line carries the node's current role and term, read when the line is written.
  const view = { role: "Follower", term: 0 };
  const logger = pino({ level: config.logLevel, base: { node: config.id }, mixin: () => ({ role: view.role, term: view.term }) });
  const me = selfMember(config);
  let stopping = false;
  const start = async (): Promise<RunningNode> => {
    const started = await startNode(config, logger);
    started.ctx.replica.on("role", (role: Role) => {
      view.role = Role[role];
    });
    started.ctx.replica.on("term", (term: number) => {
      view.term = term;
    });
    // Damage found while running: stop and start again, which moves the directory aside and repairs it.
    started.ctx.damage.onFound(() => {
      if (stopping) return;
      restarting = started
        .shutdown()
        .then(start)
        .then((next) => {
          node = next;
        })
        .catch((err: unknown) => {
          logger.fatal({ err }, "restarting to repair damaged storage failed");
          process.exit(1);
        });
    });
    emitNodeEvent({
      kind: "serving",
      clientAddress: me.clientAddress,
      peerAddress: me.peerAddress,
      httpAddress: started.httpAddress,
      kafkaAddress: started.kafkaAddress,
    });
    return started;
  };
  let restarting: Promise<void> = Promise.resolve();
  let node = await start();
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    restarting
      .then(() => node.shutdown())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, "shutdown failed");
          process.exit(1);
        },
      );
  };
  // A removed node has nothing left to serve: it says so and exits (adding it back takes an empty data
  // directory and `serve --join`, as for any new member).
  void node.removed.then((why) => {
    logger.warn(`${why}: stopping. To bring it back, start it with an empty data directory and --join, then: raftline cluster add-node`);
    stop("removed from the cluster");
  });
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("disconnect", () => stop("parent gone"));
}
