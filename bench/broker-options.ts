// Settings of the broker benchmark: three presets (quick, default, large) and flags that override them.
import { Command, InvalidArgumentError } from "commander";
import { NatsSettings } from "./nats-anchor";

export interface BrokerBenchOptions {
  preset: "quick" | "default" | "large";
  repetitions: number;
  sizesBytes: number[];
  /** Records per pipelined produce run (also what Fetch and Subscribe read back). */
  pipelinedRecords: number;
  /** ProduceStream requests in flight. */
  windowRequests: number;
  /** Records per ProduceStream request. */
  batchRecords: number;
  /** Records per one-at-a-time run. */
  unaryRecords: number;
  /** Records per end-to-end latency run. */
  endToEndRecords: number;
  echoCalls: number;
  /** Bound on every single measurement. */
  runTimeoutMs: number;
  withNats: boolean;
  nats: NatsSettings;
  natsDir?: string;
  profile: boolean;
  /** Skip the measurements (and NATS): only the profiled run. */
  profileOnly: boolean;
  /** Records produced while the servers are profiled (then read back by Subscribe). */
  profileRecords: number;
  /** Record values of random bytes instead of the compressible 'x' fill. */
  randomValues: boolean;
  /** Extra `serve` flags for every node; empty = the server's defaults. */
  serveFlags: string[];
  outDir: string;
  keepDirs: boolean;
  /** Measure a second cluster with security on (TLS, mutual TLS, token auth) after the plain one. */
  secure: boolean;
  /** Leader losses of each kind (SIGKILL, SIGSTOP) in the failover section; 0 = no failover section. */
  failoverKills: number;
}

const presets: Record<BrokerBenchOptions["preset"], Omit<BrokerBenchOptions, "preset" | "withNats" | "natsDir" | "profile" | "profileOnly" | "randomValues" | "serveFlags" | "outDir" | "keepDirs" | "secure">> = {
  quick: {
    repetitions: 1,
    sizesBytes: [100, 1024],
    pipelinedRecords: 20_000,
    windowRequests: 8,
    batchRecords: 256,
    unaryRecords: 300,
    endToEndRecords: 200,
    echoCalls: 1000,
    runTimeoutMs: 60_000,
    nats: { reps: 1, syncMessages: 300, asyncMessages: 3000, sizesBytes: [100, 1024], windows: [256], timeoutMs: 300_000 },
    profileRecords: 20_000,
    failoverKills: 5,
  },
  default: {
    repetitions: 3,
    sizesBytes: [100, 1024],
    pipelinedRecords: 100_000,
    windowRequests: 8,
    batchRecords: 256,
    unaryRecords: 1000,
    endToEndRecords: 500,
    echoCalls: 3000,
    runTimeoutMs: 120_000,
    nats: { reps: 3, syncMessages: 2000, asyncMessages: 50_000, sizesBytes: [100, 1024], windows: [256], timeoutMs: 600_000 },
    profileRecords: 100_000,
    failoverKills: 30,
  },
  large: {
    repetitions: 5,
    sizesBytes: [100, 1024],
    pipelinedRecords: 300_000,
    windowRequests: 8,
    batchRecords: 256,
    unaryRecords: 3000,
    endToEndRecords: 2000,
    echoCalls: 10_000,
    runTimeoutMs: 300_000,
    nats: { reps: 3, syncMessages: 20_000, asyncMessages: 200_000, sizesBytes: [100, 1024], windows: [256, 1024], timeoutMs: 1_800_000 },
    profileRecords: 300_000,
    failoverKills: 30,
  },
};

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a non-negative integer");
  return n;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer");
  return n;
}

function sizeList(value: string): number[] {
  return value.split(",").map((s) => positiveInt(s.trim()));
}

interface Flags {
  quick?: boolean;
  large?: boolean;
  reps?: number;
  sizes?: number[];
  records?: number;
  window?: number;
  batch?: number;
  unary?: number;
  e2e?: number;
  echo?: number;
  timeoutMs?: number;
  withNats?: boolean;
  natsFull?: boolean;
  natsDir?: string;
  profile?: boolean;
  profileOnly?: boolean;
  profileRecords?: number;
  snapshotEntries?: number;
  randomValues?: boolean;
  out: string;
  keepDirs?: boolean;
  secure?: boolean;
  failoverKills?: number;
}

export function parseBrokerOptions(argv: string[], env: NodeJS.ProcessEnv, defaultOutDir: string): BrokerBenchOptions {
  const program = new Command("bench broker")
    .description("three-node Raftline produce/consume benchmark with bare-gRPC and NATS JetStream references")
    .option("--quick", "small run (about a minute)")
    .option("--large", "long run (more records and repetitions)")
    .option("--reps <n>", "repetitions of every measurement (medians are quoted)", positiveInt)
    .option("--sizes <list>", "record sizes in bytes, comma-separated", sizeList)
    .option("--records <n>", "records per pipelined produce run", positiveInt)
    .option("--window <n>", "ProduceStream requests in flight", positiveInt)
    .option("--batch <n>", "records per ProduceStream request", positiveInt)
    .option("--unary <n>", "records per one-at-a-time produce run", positiveInt)
    .option("--e2e <n>", "records per end-to-end latency run", positiveInt)
    .option("--echo <n>", "calls per bare gRPC echo run", positiveInt)
    .option("--timeout-ms <n>", "bound on each single measurement", positiveInt)
    .option("--with-nats", "also run the NATS JetStream R3 reference (or BENCH_NATS=1)")
    .option("--nats-full", "run the NATS reference with its own full settings (about 10 minutes)")
    .option("--nats-dir <dir>", "where the NATS anchor lives (default: ../shared/anchors/nats)")
    .option("--profile", "afterwards, CPU-profile the servers during pipelined produce, Subscribe and one-at-a-time produce (or BENCH_PROFILE=1)")
    .option("--profile-only", "only the profiled run, no measurements")
    .option("--profile-records <n>", "records produced while profiling", positiveInt)
    .option("--random-values", "incompressible record values (default: 'x' fill, as the NATS reference sends)")
    .option("--snapshot-entries <n>", "the nodes' --snapshot-entries (raft log compaction interval); default: the server's", positiveInt)
    .option("--out <dir>", "folder for the JSON results", defaultOutDir)
    .option("--keep-dirs", "keep the nodes' data folders and logs")
    .option("--secure", "also measure a cluster with security on (TLS everywhere, mutual TLS, token auth) and compare")
    .option("--failover-kills <n>", "leader losses of each kind (SIGKILL, SIGSTOP) in the failover section, on a cluster of its own; 0 = none", nonNegativeInt)
    .parse(argv, { from: "user" });
  const f = program.opts<Flags>();
  const preset = f.quick ? "quick" : f.large ? "large" : "default";
  const base = presets[preset];
  const sizesBytes = f.sizes ?? base.sizesBytes;
  const nats = f.natsFull ? { ...presets.large.nats, sizesBytes } : { ...base.nats, sizesBytes };
  return {
    preset,
    repetitions: f.reps ?? base.repetitions,
    sizesBytes,
    pipelinedRecords: f.records ?? base.pipelinedRecords,
    windowRequests: f.window ?? base.windowRequests,
    batchRecords: f.batch ?? base.batchRecords,
    unaryRecords: f.unary ?? base.unaryRecords,
    endToEndRecords: f.e2e ?? base.endToEndRecords,
    echoCalls: f.echo ?? base.echoCalls,
    runTimeoutMs: f.timeoutMs ?? base.runTimeoutMs,
    withNats: f.withNats === true || env.BENCH_NATS === "1",
    nats,
    natsDir: f.natsDir,
    profile: f.profile === true || f.profileOnly === true || env.BENCH_PROFILE === "1",
    profileOnly: f.profileOnly === true,
    profileRecords: f.profileRecords ?? base.profileRecords,
    randomValues: f.randomValues === true,
    serveFlags: f.snapshotEntries === undefined ? [] : ["--snapshot-entries", String(f.snapshotEntries)],
    outDir: f.out,
    keepDirs: f.keepDirs === true,
    secure: f.secure === true,
    failoverKills: f.profileOnly ? 0 : (f.failoverKills ?? base.failoverKills),
  };
}
