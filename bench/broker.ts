// `npm run bench -- broker [flags]`: a local three-node cluster measured for produce (pipelined and one
// at a time), Fetch, Subscribe and end-to-end latency, beside a bare grpc-js echo and, with --with-nats,
// NATS JetStream R3 run in the same session. Tables go to stdout, everything to
// bench/results/broker-<timestamp>.json. --profile adds CPU profiles of the servers. --secure measures a
// second cluster with security on beside the plain one, turn about, and tabulates what security costs.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { BenchCluster } from "./broker-cluster";
import { BrokerBenchOptions, parseBrokerOptions } from "./broker-options";
import { repoRoot } from "./broker-paths";
import { useRandomValues } from "./broker-records";
import { ProfileRun, formatProfileRun, profileServers } from "./broker-profile";
import { Comparison, Row, comparisons, comparisonsTable, natsRows, raftlineRows, rowsTable } from "./broker-report";
import { RaftlineRuns, measureRaftline, measureTurnAbout } from "./broker-session";
import { NatsResult, defaultAnchorDir, runNatsAnchor } from "./nats-anchor";
import { secureMaterial, superuserCredentials } from "../test/support/secure-cluster";
import { securityCostTable } from "./broker-security";
import { FailoverRow, measureFailover, printFailoverTable } from "./failover";

/** Bound on electing the first leader. */
const setupDeadlineMs = 30000;

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

async function measureOurs(opts: BrokerBenchOptions): Promise<RaftlineRuns & { leaderChanges: number }> {
  log("starting a three-node cluster");
  const cluster = await BenchCluster.start({ serveFlags: opts.serveFlags });
  try {
    await cluster.waitForLeader(setupDeadlineMs);
    const before = cluster.leaderEvents();
    const runs = await measureRaftline(cluster, opts, log);
    // Full-rate load must not cost the leader its place: each change here is an outage nobody asked for.
    return { ...runs, leaderChanges: cluster.leaderEvents() - before };
  } catch (err) {
    log(cluster.logTails());
    throw err;
  } finally {
    await cluster.cleanup({ keepDirs: opts.keepDirs });
  }
}

/** --secure: a plain and a secure cluster side by side, measured turn about (see measureTurnAbout). */
async function measurePlainAndSecure(opts: BrokerBenchOptions): Promise<{ plain: RaftlineRuns; secure: RaftlineRuns }> {
  log("starting a plain and a secure three-node cluster");
  const security = await secureMaterial("bench");
  const plain = await BenchCluster.start({ serveFlags: opts.serveFlags });
  const secure = await BenchCluster.start({ serveFlags: [...opts.serveFlags, ...security.serveArgs], credentials: superuserCredentials(security) });
  try {
    return await measureTurnAbout({ plain, secure }, opts, log);
  } catch (err) {
    log(plain.logTails());
    log(secure.logTails());
    throw err;
  } finally {
    await plain.cleanup({ keepDirs: opts.keepDirs });
    await secure.cleanup({ keepDirs: opts.keepDirs });
  }
}

async function measureNats(opts: BrokerBenchOptions, stamp: string): Promise<NatsResult | { error: string }> {
  const s = opts.nats;
  log(`running the NATS JetStream R3 reference: ${s.reps} reps, ${s.syncMessages} one-at-a-time and ${s.asyncMessages} pipelined messages, windows ${s.windows.join(" ")}`);
  try {
    return await runNatsAnchor(s, opts.natsDir ?? defaultAnchorDir(), stamp);
  } catch (err) {
    // Our own figures stand without the reference; say why it is missing.
    log(`NATS reference failed: ${(err as Error).message}`);
    return { error: (err as Error).message };
  }
}

function header(opts: BrokerBenchOptions): string {
  return [
    `Raftline broker benchmark (${opts.preset} preset): 3 nodes on 127.0.0.1, acks=QUORUM (fsync on every node), 1 partition per topic.`,
    `Medians of ${opts.repetitions} repetition(s); pipelined: ${opts.pipelinedRecords} records per run, ${opts.windowRequests} requests in flight × ${opts.batchRecords} records each;`,
    `one at a time: ${opts.unaryRecords} records; end to end: ${opts.endToEndRecords} records; echo: ${opts.echoCalls} calls. Latencies per request. MB = 1e6 payload bytes.`,
    `Record values: ${opts.randomValues ? "random bytes" : "'x' fill (compressible)"}. Server flags: ${opts.serveFlags.length > 0 ? opts.serveFlags.join(" ") : "defaults"}.`,
    `Machine: ${cpus().length} CPUs shared by the 3 servers and this client; load average at start ${loadavg().map((l) => l.toFixed(2)).join(" ")}.`,
  ].join("\n");
}

export async function runBrokerBench(argv: string[]): Promise<void> {
  const opts = parseBrokerOptions(argv, process.env, join(repoRoot(), "bench", "results"));
  useRandomValues(opts.randomValues);
  const stamp = timestamp();
  mkdirSync(opts.outDir, { recursive: true });
  // An interrupted run still kills its servers: exit runs the clusters' synchronous cleanup.
  const interrupted = (): void => process.exit(130);
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  const started = new Date().toISOString();
  const head = header(opts);

  const both = opts.secure && !opts.profileOnly ? await measurePlainAndSecure(opts) : undefined;
  const ours: RaftlineRuns & { leaderChanges?: number } = both?.plain ?? (opts.profileOnly ? { runs: [], echo: [] } : await measureOurs(opts));
  const rows: Row[] = opts.profileOnly ? [] : raftlineRows(ours, opts.windowRequests, opts.batchRecords);
  const secured: RaftlineRuns | undefined = both?.secure;
  const securedRows: Row[] = secured ? raftlineRows(secured, opts.windowRequests, opts.batchRecords) : [];
  const nats = opts.withNats && !opts.profileOnly ? await measureNats(opts, stamp) : undefined;
  const natsTable: Row[] = nats && "figures" in nats ? natsRows(nats) : [];
  const compared: Comparison[] = comparisons(rows, natsTable, opts.sizesBytes);
  let failover: FailoverRow[] | undefined;
  if (opts.failoverKills > 0) {
    log(`failover: ${opts.failoverKills} leader losses of each kind on a fresh cluster`);
    failover = (await measureFailover(opts.failoverKills, log)).rows;
  }
  let profile: ProfileRun | undefined;
  if (opts.profile) {
    log("profiling the servers on a fresh cluster");
    profile = await profileServers(opts, join(opts.outDir, `broker-profile-${stamp}`), log);
  }

  const out = [head];
  if (rows.length > 0) out.push("", rowsTable(rows));
  if (ours.leaderChanges !== undefined) out.push("", `leader changes during the measurements above: ${ours.leaderChanges}`);
  if (securedRows.length > 0) {
    out.push("", "The same with security on (TLS on every port, mutual TLS between the nodes, the superuser's token on every call):", "", rowsTable(securedRows));
    out.push("", securityCostTable(rows, securedRows), `load average after both clusters: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  }
  if (natsTable.length > 0) out.push("", "NATS JetStream R3 (nats-server 2.9.10, file storage; it never fsyncs per message — see its README):", "", rowsTable(natsTable));
  else if (nats && "error" in nats) out.push("", `NATS reference: failed (${nats.error})`);
  if (compared.length > 0) out.push("", comparisonsTable(compared));
  if (profile) out.push("", formatProfileRun(profile));
  const jsonPath = join(opts.outDir, `broker-${stamp}.json`);
  writeFileSync(jsonPath, `${JSON.stringify({ started, finished: new Date().toISOString(), options: opts, rows, securedRows, nats, natsRows: natsTable, comparisons: compared, raw: ours, failover, profile }, null, 2)}\n`);
  process.stdout.write(`${out.join("\n")}\n`);
  if (failover) {
    process.stdout.write("\n");
    printFailoverTable(failover);
  }
  process.stdout.write(`\nresults: ${jsonPath}\n`);
}

if (require.main === module) {
  runBrokerBench(process.argv.slice(2)).then(
    () => process.exit(0),
    (err: unknown) => {
      log(err instanceof Error ? (err.stack ?? err.message) : String(err));
      process.exit(1);
    },
  );
}
