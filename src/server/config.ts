// One node's configuration. Sources, strongest first: command-line flags, RAFTLINE_* environment
// variables, a JSON config file, defaults. Validation happens here so the rest of the server can trust it.
import { readFileSync } from "node:fs";

export interface ClusterMember {
  id: number;
  /** host:port where clients (and forwarding peers) reach this node's public gRPC services. */
  clientAddress: string;
  /** host:port of the node-to-node raft transport. */
  peerAddress: string;
}

export interface NodeConfig {
  id: number;
  members: ClusterMember[];
  dataDir: string;
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  maxRecordBytes: number;
  maxRequestBytes: number;
  /** How often the leader proposes a retention check carrying its clock. */
  retentionCheckMs: number;
  /** Compact the raft log once this many applied entries sit in it. */
  snapshotEntries: number;
  /** ... or once the applied entries in it hold this many bytes, whichever comes first. */
  snapshotBytes: number;
  /** Bytes of proposed but uncommitted entries the leader holds; beyond it writes get OVERLOADED. */
  maxUncommittedBytes: number;
  /** Ceiling on a Fetch's or Subscribe's max_bytes: larger requests are clamped to it. */
  maxFetchBytes: number;
  /** Encoded Subscribe responses one stream may have waiting for a slow reader. */
  subscribeStreamBytes: number;
  /** The same, summed over every Subscribe stream of the node. */
  subscribeNodeBytes: number;
  /** Subscribe streams open at once on the node; more are refused. */
  maxSubscribeStreams: number;
  /** Fetch long polls waiting at once on the node; more are refused. */
  maxLongPolls: number;
  /** Calls (HTTP/2 streams) open at once on one client connection. */
  maxStreamsPerConnection: number;
  /** Idle time after which a node pings a client connection; an unanswered ping closes it. */
  keepaliveMs: number;
  /** How long such a ping may stay unanswered. */
  keepaliveTimeoutMs: number;
  /** A client connection with no call open for this long is closed. */
  maxConnectionIdleMs: number;
  /** LevelDB's memtable size (it holds up to two). */
  dbWriteBufferBytes: number;
  /**
   * Table files LevelDB keeps open. It maps each table it reads into memory, so this bounds those pages
   * (tables are about 2 MiB); its own default, 1000, let a node's RSS grow by gigabytes with the data.
   */
  dbMaxOpenFiles: number;
  /** Idempotent producers idle this long are forgotten; carried in the leader's Ticks so all nodes agree. */
  producerExpiryMs: number;
  /** Allows the transport's isolation switch; only tests turn it on. */
  enableFaults: boolean;
  logLevel: string;
  /** host:port of the HTTP server for /metrics and the dashboard; absent = no HTTP server. Port 0 picks one. */
  httpAddress?: string;
  /**
   * Any member's client address: this node is new to a running cluster. With an empty data directory it
   * takes the cluster's id and members from there and waits, as a non-voter, to be added (AddNode).
   */
  join?: string;
  /** host:port of this node's Kafka-protocol listener; absent = no listener. */
  kafkaAddress?: string;
  /** Every node's Kafka listener, as Metadata advertises them (this node's is kafkaAddress). */
  kafkaMembers: KafkaMember[];
  /** TLS on every port, peers authenticated by mutual TLS, clients authenticated and authorized; absent = all off. */
  security?: SecurityConfig;
}

/**
 * Security is on exactly when TLS is configured: then every call needs a principal and every principal
 * needs an ACL (or to be the superuser). Certificate files are re-read every `certReloadMs`.
 */
export interface SecurityConfig {
  certFile: string;
  keyFile: string;
  /** The CA that signs the nodes' certificates and clients' certificates. */
  caFile: string;
  /** Clients must present a certificate from the CA (peers always must). */
  requireClientCert: boolean;
  certReloadMs: number;
  /** The subject common name of the nodes' certificates: a connection presenting it is a peer node. */
  nodePrincipal: string;
  /** A principal allowed everything (by certificate with this common name, or by the bootstrap token). */
  superuser: string;
  /** A file holding the superuser's bootstrap token; absent = the superuser authenticates by certificate only. */
  superuserTokenFile?: string;
  /** The token for /metrics and the dashboard; absent = those answer only the superuser's token. */
  httpTokenFile?: string;
}

/** A node's Kafka listener as clients reach it. */
export interface KafkaMember {
  id: number;
  address: string;
}

export const defaultConfig = {
  tickMs: 100,
  electionTicks: 6,
  heartbeatTicks: 1,
  maxRecordBytes: 1024 * 1024,
  maxRequestBytes: 8 * 1024 * 1024,
  retentionCheckMs: 5000,
  snapshotEntries: 20000,
  snapshotBytes: 64 * 1024 * 1024,
  maxUncommittedBytes: 64 * 1024 * 1024,
  maxFetchBytes: 4 * 1024 * 1024,
  subscribeStreamBytes: 1024 * 1024,
  subscribeNodeBytes: 128 * 1024 * 1024,
  maxSubscribeStreams: 1024,
  maxLongPolls: 1024,
  maxStreamsPerConnection: 256,
  keepaliveMs: 10000,
  keepaliveTimeoutMs: 5000,
  maxConnectionIdleMs: 5 * 60 * 1000,
  dbWriteBufferBytes: 64 * 1024 * 1024,
  dbMaxOpenFiles: 100,
  producerExpiryMs: 7 * 24 * 60 * 60 * 1000,
  enableFaults: false,
  logLevel: "info",
  certReloadMs: 5000,
  nodePrincipal: "raftline-node",
  superuser: "admin",
} as const;

/** Loosely typed input gathered from flags, env and file before validation. */
export interface RawConfig {
  id?: string | number;
  members?: string | ClusterMember[];
  dataDir?: string;
  tickMs?: string | number;
  electionTicks?: string | number;
  heartbeatTicks?: string | number;
  maxRecordBytes?: string | number;
  maxRequestBytes?: string | number;
  retentionCheckMs?: string | number;
  snapshotEntries?: string | number;
  snapshotBytes?: string | number;
  maxUncommittedBytes?: string | number;
  maxFetchBytes?: string | number;
  subscribeStreamBytes?: string | number;
  subscribeNodeBytes?: string | number;
  maxSubscribeStreams?: string | number;
  maxLongPolls?: string | number;
  maxStreamsPerConnection?: string | number;
  keepaliveMs?: string | number;
  keepaliveTimeoutMs?: string | number;
  maxConnectionIdleMs?: string | number;
  dbWriteBufferBytes?: string | number;
  dbMaxOpenFiles?: string | number;
  producerExpiryMs?: string | number;
  enableFaults?: string | boolean;
  logLevel?: string;
  httpAddress?: string;
  join?: string;
  kafkaAddress?: string;
  kafkaMembers?: string | KafkaMember[];
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  requireClientCert?: string | boolean;
  certReloadMs?: string | number;
  nodePrincipal?: string;
  superuser?: string;
  superuserTokenFile?: string;
  httpTokenFile?: string;
}

const envNames: Record<keyof RawConfig, string> = {
  id: "RAFTLINE_ID",
  members: "RAFTLINE_MEMBERS",
  dataDir: "RAFTLINE_DATA_DIR",
  tickMs: "RAFTLINE_TICK_MS",
  electionTicks: "RAFTLINE_ELECTION_TICKS",
  heartbeatTicks: "RAFTLINE_HEARTBEAT_TICKS",
  maxRecordBytes: "RAFTLINE_MAX_RECORD_BYTES",
  maxRequestBytes: "RAFTLINE_MAX_REQUEST_BYTES",
  retentionCheckMs: "RAFTLINE_RETENTION_CHECK_MS",
  snapshotEntries: "RAFTLINE_SNAPSHOT_ENTRIES",
  snapshotBytes: "RAFTLINE_SNAPSHOT_BYTES",
  maxUncommittedBytes: "RAFTLINE_MAX_UNCOMMITTED_BYTES",
  maxFetchBytes: "RAFTLINE_MAX_FETCH_BYTES",
  subscribeStreamBytes: "RAFTLINE_SUBSCRIBE_STREAM_BYTES",
  subscribeNodeBytes: "RAFTLINE_SUBSCRIBE_NODE_BYTES",
  maxSubscribeStreams: "RAFTLINE_MAX_SUBSCRIBE_STREAMS",
  maxLongPolls: "RAFTLINE_MAX_LONG_POLLS",
  maxStreamsPerConnection: "RAFTLINE_MAX_STREAMS_PER_CONNECTION",
  keepaliveMs: "RAFTLINE_KEEPALIVE_MS",
  keepaliveTimeoutMs: "RAFTLINE_KEEPALIVE_TIMEOUT_MS",
  maxConnectionIdleMs: "RAFTLINE_MAX_CONNECTION_IDLE_MS",
  dbWriteBufferBytes: "RAFTLINE_DB_WRITE_BUFFER_BYTES",
  dbMaxOpenFiles: "RAFTLINE_DB_MAX_OPEN_FILES",
  producerExpiryMs: "RAFTLINE_PRODUCER_EXPIRY_MS",
  enableFaults: "RAFTLINE_ENABLE_FAULTS",
  logLevel: "RAFTLINE_LOG_LEVEL",
  httpAddress: "RAFTLINE_HTTP_ADDRESS",
  join: "RAFTLINE_JOIN",
  kafkaAddress: "RAFTLINE_KAFKA_ADDRESS",
  kafkaMembers: "RAFTLINE_KAFKA_MEMBERS",
  tlsCert: "RAFTLINE_TLS_CERT",
  tlsKey: "RAFTLINE_TLS_KEY",
  tlsCa: "RAFTLINE_TLS_CA",
  requireClientCert: "RAFTLINE_REQUIRE_CLIENT_CERT",
  certReloadMs: "RAFTLINE_CERT_RELOAD_MS",
  nodePrincipal: "RAFTLINE_NODE_PRINCIPAL",
  superuser: "RAFTLINE_SUPERUSER",
  superuserTokenFile: "RAFTLINE_SUPERUSER_TOKEN_FILE",
  httpTokenFile: "RAFTLINE_HTTP_TOKEN_FILE",
};

export function envConfig(env: NodeJS.ProcessEnv): RawConfig {
  const out: RawConfig = {};
  for (const [key, name] of Object.entries(envNames) as [keyof RawConfig, string][]) {
    const value = env[name];
    if (value !== undefined && value !== "") Object.assign(out, { [key]: value });
  }
  return out;
}

export function fileConfig(path: string): RawConfig {
  const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must hold a JSON object`);
  }
  return parsed as RawConfig;
}

export class ConfigError extends Error {}

/** Members as "1=127.0.0.1:7001,127.0.0.1:7101;2=..." (id=client,peer), ';' or whitespace between members. */
export function parseMembers(spec: string): ClusterMember[] {
  return spec
    .split(/[;\s]+/)
    .filter((s) => s.length > 0)
    .map((part) => {
      const m = /^(\d+)=([^,]+),([^,]+)$/.exec(part);
      if (!m) throw new ConfigError(`bad member "${part}": expected ID=CLIENT_HOST:PORT,PEER_HOST:PORT`);
      return { id: Number(m[1]), clientAddress: m[2], peerAddress: m[3] };
    });
}

/** Kafka listeners as "1=127.0.0.1:9092;2=127.0.0.1:9093", ';' or whitespace between members. */
export function parseKafkaMembers(spec: string): KafkaMember[] {
  return spec
    .split(/[;\s]+/)
    .filter((s) => s.length > 0)
    .map((part) => {
      const m = /^(\d+)=([^,=]+)$/.exec(part);
      if (!m) throw new ConfigError(`bad Kafka member "${part}": expected ID=HOST:PORT`);
      return { id: Number(m[1]), address: m[2] };
    });
}

/**
 * This node listens on --kafka-address, or else on its own entry of the Kafka members; the members list
 * the other nodes' listeners so Metadata can name every broker.
 */
function resolveKafka(raw: RawConfig, id: number, config: NodeConfig): void {
  const given = typeof raw.kafkaMembers === "string" ? parseKafkaMembers(raw.kafkaMembers) : raw.kafkaMembers ?? [];
  const members = new Map<number, string>();
  for (const m of given) {
    if (!Number.isInteger(m.id) || m.id < 1) throw new ConfigError(`Kafka member id must be a positive integer: ${m.id}`);
    if (!addressPattern.test(m.address)) throw new ConfigError(`bad Kafka address "${m.address}" for member ${m.id}: expected HOST:PORT`);
    members.set(m.id, m.address);
  }
  if (raw.kafkaAddress !== undefined) {
    if (!addressPattern.test(raw.kafkaAddress)) throw new ConfigError(`bad kafkaAddress "${raw.kafkaAddress}": expected HOST:PORT`);
    members.set(id, raw.kafkaAddress);
  }
  const own = members.get(id);
  if (own !== undefined) config.kafkaAddress = own;
  config.kafkaMembers = [...members].map(([memberId, address]) => ({ id: memberId, address })).sort((a, b) => a.id - b.id);
}

function int(name: string, value: string | number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`${name} must be an integer >= ${min}, got "${value}"`);
  return n;
}

function bool(value: string | boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value === "boolean") return value;
  return value === "1" || value.toLowerCase() === "true";
}

const addressPattern = /^[^:\s]+:\d{1,5}$/;

/** Merges sources (later ones win) and validates the result. */
export function resolveConfig(...sources: RawConfig[]): NodeConfig {
  const raw: RawConfig = Object.assign({}, ...sources);
  const id = int("id", raw.id, 0, 1);
  if (id === 0) throw new ConfigError("a node id is required (--id or RAFTLINE_ID)");
  const members = typeof raw.members === "string" ? parseMembers(raw.members) : raw.members ?? [];
  if (members.length === 0) throw new ConfigError("cluster members are required (--member or RAFTLINE_MEMBERS)");
  const ids = new Set<number>();
  for (const m of members) {
    if (!Number.isInteger(m.id) || m.id < 1) throw new ConfigError(`member id must be a positive integer: ${m.id}`);
    if (ids.has(m.id)) throw new ConfigError(`member id ${m.id} appears twice`);
    ids.add(m.id);
    for (const a of [m.clientAddress, m.peerAddress]) {
      if (!addressPattern.test(a)) throw new ConfigError(`bad address "${a}" for member ${m.id}: expected HOST:PORT`);
    }
  }
  if (!ids.has(id)) throw new ConfigError(`node id ${id} is not among the members ${[...ids].join(", ")}`);
  if (!raw.dataDir) throw new ConfigError("a data directory is required (--data-dir or RAFTLINE_DATA_DIR)");
  const config: NodeConfig = {
    id,
    members,
    dataDir: raw.dataDir,
    tickMs: int("tickMs", raw.tickMs, defaultConfig.tickMs, 1),
    electionTicks: int("electionTicks", raw.electionTicks, defaultConfig.electionTicks, 2),
    heartbeatTicks: int("heartbeatTicks", raw.heartbeatTicks, defaultConfig.heartbeatTicks, 1),
    maxRecordBytes: int("maxRecordBytes", raw.maxRecordBytes, defaultConfig.maxRecordBytes, 1),
    maxRequestBytes: int("maxRequestBytes", raw.maxRequestBytes, defaultConfig.maxRequestBytes, 1024),
    retentionCheckMs: int("retentionCheckMs", raw.retentionCheckMs, defaultConfig.retentionCheckMs, 1),
    snapshotEntries: int("snapshotEntries", raw.snapshotEntries, defaultConfig.snapshotEntries, 1),
    snapshotBytes: int("snapshotBytes", raw.snapshotBytes, defaultConfig.snapshotBytes, 1),
    maxUncommittedBytes: int("maxUncommittedBytes", raw.maxUncommittedBytes, defaultConfig.maxUncommittedBytes, 1024),
    maxFetchBytes: int("maxFetchBytes", raw.maxFetchBytes, defaultConfig.maxFetchBytes, 1024),
    subscribeStreamBytes: int("subscribeStreamBytes", raw.subscribeStreamBytes, defaultConfig.subscribeStreamBytes, 1),
    subscribeNodeBytes: int("subscribeNodeBytes", raw.subscribeNodeBytes, defaultConfig.subscribeNodeBytes, 1),
    maxSubscribeStreams: int("maxSubscribeStreams", raw.maxSubscribeStreams, defaultConfig.maxSubscribeStreams, 1),
    maxLongPolls: int("maxLongPolls", raw.maxLongPolls, defaultConfig.maxLongPolls, 1),
    maxStreamsPerConnection: int("maxStreamsPerConnection", raw.maxStreamsPerConnection, defaultConfig.maxStreamsPerConnection, 1),
    keepaliveMs: int("keepaliveMs", raw.keepaliveMs, defaultConfig.keepaliveMs, 1),
    keepaliveTimeoutMs: int("keepaliveTimeoutMs", raw.keepaliveTimeoutMs, defaultConfig.keepaliveTimeoutMs, 1),
    maxConnectionIdleMs: int("maxConnectionIdleMs", raw.maxConnectionIdleMs, defaultConfig.maxConnectionIdleMs, 1),
    dbWriteBufferBytes: int("dbWriteBufferBytes", raw.dbWriteBufferBytes, defaultConfig.dbWriteBufferBytes, 1024 * 1024),
    // LevelDB keeps 10 of them for itself and silently raises anything below 74.
    dbMaxOpenFiles: int("dbMaxOpenFiles", raw.dbMaxOpenFiles, defaultConfig.dbMaxOpenFiles, 74),
    producerExpiryMs: int("producerExpiryMs", raw.producerExpiryMs, defaultConfig.producerExpiryMs, 1),
    enableFaults: bool(raw.enableFaults, defaultConfig.enableFaults),
    logLevel: raw.logLevel ?? defaultConfig.logLevel,
    kafkaMembers: [],
  };
  resolveKafka(raw, id, config);
  if (raw.httpAddress !== undefined) {
    if (!addressPattern.test(raw.httpAddress)) throw new ConfigError(`bad httpAddress "${raw.httpAddress}": expected HOST:PORT`);
    config.httpAddress = raw.httpAddress;
  }
  if (raw.join !== undefined) {
    if (!addressPattern.test(raw.join)) throw new ConfigError(`bad join address "${raw.join}": expected HOST:PORT`);
    config.join = raw.join;
  }
  const security = securityConfig(raw);
  if (security) config.security = security;
  if (security && config.kafkaAddress !== undefined) {
    // An unauthenticated port beside authenticated ones would bypass every ACL.
    throw new ConfigError("the Kafka listener speaks neither TLS nor SASL yet: with security on, leave --kafka-address and --kafka-member unset");
  }
  if (config.heartbeatTicks >= config.electionTicks) {
    throw new ConfigError("heartbeatTicks must be smaller than electionTicks");
  }
  if (config.maxRecordBytes > config.maxRequestBytes) {
    throw new ConfigError("maxRecordBytes must not exceed maxRequestBytes");
  }
  if (config.subscribeStreamBytes > config.subscribeNodeBytes) {
    throw new ConfigError("subscribeStreamBytes must not exceed subscribeNodeBytes");
  }
  return config;
}

function securityConfig(raw: RawConfig): SecurityConfig | undefined {
  const files = [raw.tlsCert, raw.tlsKey, raw.tlsCa];
  const given = files.filter((f) => f !== undefined && f !== "").length;
  const dependent = raw.superuserTokenFile ?? raw.httpTokenFile ?? raw.requireClientCert;
  if (given === 0) {
    if (dependent !== undefined) throw new ConfigError("security settings need TLS: give tlsCert, tlsKey and tlsCa");
    return undefined;
  }
  if (given !== 3) throw new ConfigError("TLS needs all three of tlsCert, tlsKey and tlsCa");
  const security: SecurityConfig = {
    certFile: raw.tlsCert as string,
    keyFile: raw.tlsKey as string,
    caFile: raw.tlsCa as string,
    requireClientCert: bool(raw.requireClientCert, false),
    certReloadMs: int("certReloadMs", raw.certReloadMs, defaultConfig.certReloadMs, 100),
    nodePrincipal: raw.nodePrincipal || defaultConfig.nodePrincipal,
    superuser: raw.superuser || defaultConfig.superuser,
  };
  if (security.superuser === security.nodePrincipal) throw new ConfigError("the superuser must not be the node principal");
  if (raw.superuserTokenFile) security.superuserTokenFile = raw.superuserTokenFile;
  if (raw.httpTokenFile) security.httpTokenFile = raw.httpTokenFile;
  return security;
}

export function selfMember(config: NodeConfig): ClusterMember {
  const me = config.members.find((m) => m.id === config.id);
  if (!me) throw new ConfigError(`node ${config.id} is not a member`);
  return me;
}
