// `raftline serve`: one node, configured by flags, RAFTLINE_* environment variables or a JSON file.
import { Command } from "commander";
import { ConfigError, RawConfig, envConfig, fileConfig, resolveConfig } from "../server/config";
import { runNode } from "../server/run-node";

interface ServeFlags {
  config?: string;
  id?: string;
  member?: string[];
  dataDir?: string;
  tickMs?: string;
  electionTicks?: string;
  heartbeatTicks?: string;
  maxRecordBytes?: string;
  maxRequestBytes?: string;
  retentionCheckMs?: string;
  snapshotEntries?: string;
  snapshotBytes?: string;
  maxUncommittedBytes?: string;
  maxFetchBytes?: string;
  subscribeStreamBytes?: string;
  subscribeNodeBytes?: string;
  maxSubscribeStreams?: string;
  maxLongPolls?: string;
  maxStreamsPerConnection?: string;
  keepaliveMs?: string;
  keepaliveTimeoutMs?: string;
  maxConnectionIdleMs?: string;
  dbWriteBufferBytes?: string;
  dbMaxOpenFiles?: string;
  producerExpiryMs?: string;
  logLevel?: string;
  httpAddress?: string;
  join?: string;
  kafkaAddress?: string;
  kafkaMember?: string[];
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  requireClientCert?: boolean;
  certReloadMs?: string;
  nodePrincipal?: string;
  superuser?: string;
  superuserTokenFile?: string;
  httpTokenFile?: string;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function addServeCommand(program: Command): void {
  program
    .command("serve")
    .description("run one Raftline node")
    .option("-c, --config <file>", "JSON config file (flags and RAFTLINE_* env vars override it)")
    .option("--id <n>", "this node's id (RAFTLINE_ID)")
    .option(
      "--member <spec>",
      "a cluster member as ID=CLIENT_HOST:PORT,PEER_HOST:PORT; repeat for each node, this one included (RAFTLINE_MEMBERS, ';'-separated)",
      collect,
    )
    .option("--data-dir <dir>", "where this node keeps its LevelDB (RAFTLINE_DATA_DIR)")
    .option("--tick-ms <ms>", "raft tick interval (RAFTLINE_TICK_MS)")
    .option("--election-ticks <n>", "election timeout in ticks, randomized up to twice that (RAFTLINE_ELECTION_TICKS)")
    .option("--heartbeat-ticks <n>", "leader heartbeat interval in ticks (RAFTLINE_HEARTBEAT_TICKS)")
    .option("--max-record-bytes <n>", "largest accepted record (RAFTLINE_MAX_RECORD_BYTES)")
    .option("--max-request-bytes <n>", "largest accepted request (RAFTLINE_MAX_REQUEST_BYTES)")
    .option("--retention-check-ms <ms>", "how often the leader applies retention (RAFTLINE_RETENTION_CHECK_MS)")
    .option("--snapshot-entries <n>", "compact the raft log after this many applied entries (RAFTLINE_SNAPSHOT_ENTRIES)")
    .option("--snapshot-bytes <n>", "compact the raft log once its applied entries hold this many bytes, if that comes before --snapshot-entries (RAFTLINE_SNAPSHOT_BYTES, default 64 MiB)")
    .option("--max-uncommitted-bytes <n>", "bytes of uncommitted writes the leader holds before refusing more (RAFTLINE_MAX_UNCOMMITTED_BYTES, default 64 MiB)")
    .option("--max-fetch-bytes <n>", "ceiling on Fetch and Subscribe max_bytes (RAFTLINE_MAX_FETCH_BYTES, default 4 MiB)")
    .option("--subscribe-stream-bytes <n>", "responses one Subscribe stream may queue for a slow reader (RAFTLINE_SUBSCRIBE_STREAM_BYTES, default 1 MiB)")
    .option("--subscribe-node-bytes <n>", "the same over all streams of the node (RAFTLINE_SUBSCRIBE_NODE_BYTES, default 128 MiB)")
    .option("--max-subscribe-streams <n>", "Subscribe streams open at once (RAFTLINE_MAX_SUBSCRIBE_STREAMS, default 1024)")
    .option("--max-long-polls <n>", "Fetch long polls waiting at once (RAFTLINE_MAX_LONG_POLLS, default 1024)")
    .option("--max-streams-per-connection <n>", "calls open at once on one client connection (RAFTLINE_MAX_STREAMS_PER_CONNECTION, default 256)")
    .option("--keepalive-ms <ms>", "ping an idle client connection after this long (RAFTLINE_KEEPALIVE_MS, default 10000)")
    .option("--keepalive-timeout-ms <ms>", "close a connection whose ping stays unanswered this long (RAFTLINE_KEEPALIVE_TIMEOUT_MS, default 5000)")
    .option("--max-connection-idle-ms <ms>", "close a client connection without calls after this long (RAFTLINE_MAX_CONNECTION_IDLE_MS, default 300000)")
    .option("--db-write-buffer-bytes <n>", "LevelDB memtable size; it holds up to two (RAFTLINE_DB_WRITE_BUFFER_BYTES, default 64 MiB)")
    .option("--db-max-open-files <n>", "LevelDB table files kept open, each mapped in memory as read, about 2 MiB (RAFTLINE_DB_MAX_OPEN_FILES, default 100, at least 74)")
    .option(
      "--producer-expiry-ms <ms>",
      "forget idempotent producers idle this long; the leader's setting applies cluster-wide (RAFTLINE_PRODUCER_EXPIRY_MS, default 7 days)",
    )
    .option("--log-level <level>", "pino log level (RAFTLINE_LOG_LEVEL)")
    .option("--http-address <host:port>", "serve /metrics (Prometheus) and the dashboard here; off unless set, port 0 picks one (RAFTLINE_HTTP_ADDRESS)")
    .option(
      "--join <host:port>",
      "join a running cluster through any member's client address: with an empty data dir this node waits to be added (raftline cluster add-node) (RAFTLINE_JOIN)",
    )
    .option("--kafka-address <host:port>", "serve the Kafka protocol here (off unless set); clients are told this address, so use one they can reach (RAFTLINE_KAFKA_ADDRESS)")
    .option(
      "--kafka-member <spec>",
      "another node's Kafka listener as ID=HOST:PORT, advertised in Kafka Metadata; repeat per node (RAFTLINE_KAFKA_MEMBERS, ';'-separated)",
      collect,
    )
    .option("--tls-cert <file>", "this node's certificate (PEM); with --tls-key and --tls-ca turns security on: TLS on every port, mutual TLS between peers, authenticated and authorized clients (RAFTLINE_TLS_CERT)")
    .option("--tls-key <file>", "the certificate's private key (RAFTLINE_TLS_KEY)")
    .option("--tls-ca <file>", "the CA that signs nodes' and clients' certificates; a peer with another CA is refused (RAFTLINE_TLS_CA)")
    .option("--require-client-cert", "clients must present a certificate from the CA, tokens alone are refused at the handshake (RAFTLINE_REQUIRE_CLIENT_CERT)")
    .option("--cert-reload-ms <ms>", "how often certificate files are re-read; replace them atomically (RAFTLINE_CERT_RELOAD_MS, default 5000)")
    .option("--node-principal <name>", "common name of the nodes' certificates (RAFTLINE_NODE_PRINCIPAL, default raftline-node)")
    .option("--superuser <name>", "a principal allowed everything (RAFTLINE_SUPERUSER, default admin)")
    .option("--superuser-token-file <file>", "file holding the superuser's bootstrap token (RAFTLINE_SUPERUSER_TOKEN_FILE)")
    .option("--http-token-file <file>", "file holding the token /metrics and the dashboard ask for; the superuser's token works too (RAFTLINE_HTTP_TOKEN_FILE)")
    .action(async (flags: ServeFlags) => {
      const fromFlags: RawConfig = {
        id: flags.id,
        members: flags.member?.join(";"),
        dataDir: flags.dataDir,
        tickMs: flags.tickMs,
        electionTicks: flags.electionTicks,
        heartbeatTicks: flags.heartbeatTicks,
        maxRecordBytes: flags.maxRecordBytes,
        maxRequestBytes: flags.maxRequestBytes,
        retentionCheckMs: flags.retentionCheckMs,
        snapshotEntries: flags.snapshotEntries,
        snapshotBytes: flags.snapshotBytes,
        maxUncommittedBytes: flags.maxUncommittedBytes,
        maxFetchBytes: flags.maxFetchBytes,
        subscribeStreamBytes: flags.subscribeStreamBytes,
        subscribeNodeBytes: flags.subscribeNodeBytes,
        maxSubscribeStreams: flags.maxSubscribeStreams,
        maxLongPolls: flags.maxLongPolls,
        maxStreamsPerConnection: flags.maxStreamsPerConnection,
        keepaliveMs: flags.keepaliveMs,
        keepaliveTimeoutMs: flags.keepaliveTimeoutMs,
        maxConnectionIdleMs: flags.maxConnectionIdleMs,
        dbWriteBufferBytes: flags.dbWriteBufferBytes,
        dbMaxOpenFiles: flags.dbMaxOpenFiles,
        producerExpiryMs: flags.producerExpiryMs,
        logLevel: flags.logLevel,
        httpAddress: flags.httpAddress,
        join: flags.join,
        kafkaAddress: flags.kafkaAddress,
        kafkaMembers: flags.kafkaMember?.join(";"),
        tlsCert: flags.tlsCert,
        tlsKey: flags.tlsKey,
        tlsCa: flags.tlsCa,
        requireClientCert: flags.requireClientCert,
        certReloadMs: flags.certReloadMs,
        nodePrincipal: flags.nodePrincipal,
        superuser: flags.superuser,
        superuserTokenFile: flags.superuserTokenFile,
        httpTokenFile: flags.httpTokenFile,
      };
      const defined = Object.fromEntries(Object.entries(fromFlags).filter(([, v]) => v !== undefined)) as RawConfig;
      try {
        const config = resolveConfig(
          flags.config ? fileConfig(flags.config) : {},
          envConfig(process.env),
          defined,
        );
        await runNode(config);
      } catch (err) {
        if (err instanceof ConfigError) {
          process.stderr.write(`raftline serve: ${err.message}\n`);
          process.exit(2);
        }
        throw err;
      }
    });
}
