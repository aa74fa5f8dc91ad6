// Turns the runs into medians, the comparison with the references, and markdown tables for stdout.
import type { CpuSeconds } from "./broker-cpu";
import type { RaftlineRuns, SizeRun } from "./broker-session";
import { Spread, median, spread } from "./broker-stats";
import type { NatsFigure, NatsResult } from "./nats-anchor";

export interface Row {
  workload: string;
  sizeBytes: number;
  runs: number;
  recordsPerSec?: Spread;
  mbPerSec?: number;
  p50Ms?: number;
  p99Ms?: number;
  serverCpuUsPerRecord?: number;
  /** Per server, leader first (median over runs). */
  nodeCpuUsPerRecord?: number[];
  /** Peak RSS per server during the runs, leader first (max over runs). */
  nodeRssMaxMiB?: number[];
  clientCpuUsPerRecord?: number;
  /** CPU cores busy with other processes on the machine during the run (median). */
  otherCores?: number;
  /** Failed requests, or records read out of place. */
  errors?: number;
}

export interface Comparison {
  what: string;
  ours: number;
  reference: number;
  unit: string;
  /** ours / reference. */
  ratio: number;
}

interface Measured {
  records: number;
  seconds: number;
  recordsPerSec: number;
  mbPerSec: number;
  cpu: CpuSeconds;
  p50Ms?: number;
  p99Ms?: number;
  errors?: number;
  bad?: number;
}

function rowOf(workload: string, sizeBytes: number, ms: Measured[]): Row {
  return {
    workload,
    sizeBytes,
    runs: ms.length,
    recordsPerSec: spread(ms.map((m) => m.recordsPerSec)),
    mbPerSec: median(ms.map((m) => m.mbPerSec)),
    p50Ms: ms[0].p50Ms === undefined ? undefined : median(ms.map((m) => m.p50Ms ?? NaN)),
    p99Ms: ms[0].p99Ms === undefined ? undefined : median(ms.map((m) => m.p99Ms ?? NaN)),
    serverCpuUsPerRecord: median(ms.map((m) => (m.cpu.serverSeconds / m.records) * 1e6)),
    nodeCpuUsPerRecord: ms[0].cpu.perServerSeconds.map((_, i) => median(ms.map((m) => (m.cpu.perServerSeconds[i] / m.records) * 1e6))),
    nodeRssMaxMiB: ms[0].cpu.perServerRssMaxMiB.map((_, i) => Math.max(...ms.map((m) => m.cpu.perServerRssMaxMiB[i]))),
    clientCpuUsPerRecord: median(ms.map((m) => (m.cpu.clientSeconds / m.records) * 1e6)),
    otherCores: median(ms.map((m) => m.cpu.otherSeconds / m.seconds)),
    errors: ms.reduce((sum, m) => sum + (m.errors ?? 0) + (m.bad ?? 0), 0),
  };
}

export function raftlineRows(r: RaftlineRuns, windowRequests: number, batchRecords: number): Row[] {
  const sizes = [...new Set(r.runs.map((x) => x.sizeBytes))];
  const rows: Row[] = [];
  for (const size of sizes) {
    const runs = r.runs.filter((x) => x.sizeBytes === size);
    const pick = <T>(f: (x: SizeRun) => T): T[] => runs.map(f);
    rows.push(rowOf(`produce pipelined (ProduceStream, ${windowRequests} req × ${batchRecords} rec in flight)`, size, pick((x) => x.pipelined)));
    rows.push(rowOf("produce one at a time (unary, 1 record, await each)", size, pick((x) => x.oneAtATime)));
    rows.push(rowOf("Fetch from offset 0 to the end, 1 MiB per request (leader)", size, pick((x) => x.fetch)));
    rows.push(rowOf("Subscribe from earliest (leader)", size, pick((x) => x.subscribe)));
    for (const role of ["leader", "follower"] as const) {
      rows.push({
        workload: `end to end produce → subscriber on the ${role} (one-at-a-time producer)`,
        sizeBytes: size,
        runs: runs.length,
        p50Ms: median(pick((x) => x.endToEnd[role].p50Ms)),
        p99Ms: median(pick((x) => x.endToEnd[role].p99Ms)),
      });
    }
  }
  rows.push({
    workload: "bare grpc-js unary echo, one at a time (child-process server)",
    sizeBytes: 100,
    runs: r.echo.length,
    recordsPerSec: spread(r.echo.map((e) => e.callsPerSec)),
    p50Ms: median(r.echo.map((e) => e.p50Ms)),
    p99Ms: median(r.echo.map((e) => e.p99Ms)),
  });
  return rows;
}

const natsWorkload: Record<NatsFigure["mode"], string> = {
  sync: "js.publish one at a time (await each ack)",
  async: "js.publish pipelined",
  raw: "core publish + reply inbox, pipelined (lean async)",
  fetch: "pull fetch(1000), one outstanding",
  consume: "pull consume(1000), prefetching",
};

export function natsRows(n: NatsResult): Row[] {
  return n.figures.map((f) => ({
    workload: `NATS ${natsWorkload[f.mode]}${f.window ? `, window ${f.window}` : ""}`,
    sizeBytes: f.sizeBytes,
    runs: f.runs,
    recordsPerSec: f.msgsPerSec,
    mbPerSec: f.mbPerSec,
    p50Ms: Number.isFinite(f.p50Ms) ? f.p50Ms : undefined,
    p99Ms: Number.isFinite(f.p99Ms) ? f.p99Ms : undefined,
    serverCpuUsPerRecord: f.serverCpuUsPerMsg,
    clientCpuUsPerRecord: f.clientCpuUsPerMsg,
    otherCores: f.otherCores,
    errors: f.errors,
  }));
}

function find(rows: Row[], prefix: string, size: number): Row | undefined {
  return rows.find((r) => r.workload.startsWith(prefix) && r.sizeBytes === size);
}

function compare(out: Comparison[], what: string, unit: string, ours: number | undefined, reference: number | undefined): void {
  if (ours === undefined || reference === undefined || !Number.isFinite(ours) || !Number.isFinite(reference)) return;
  out.push({ what, ours, reference, unit, ratio: ours / reference });
}

export function comparisons(ours: Row[], nats: Row[], sizes: number[]): Comparison[] {
  const out: Comparison[] = [];
  const echo = find(ours, "bare grpc-js", 100);
  for (const size of sizes) {
    const unary = find(ours, "produce one at a time", size);
    compare(out, `${size} B one-at-a-time produce p50 vs bare echo p50`, "ms", unary?.p50Ms, echo?.p50Ms);
  }
  const natsSync100 = find(nats, "NATS js.publish one at a time", 100);
  compare(out, "NATS one-at-a-time publish p50 (100 B) vs bare echo p50", "ms", natsSync100?.p50Ms, echo?.p50Ms);
  for (const size of sizes) {
    const pipelined = find(ours, "produce pipelined", size)?.recordsPerSec?.median;
    compare(out, `${size} B pipelined produce vs NATS js.publish pipelined`, "rec/s", pipelined, find(nats, "NATS js.publish pipelined", size)?.recordsPerSec?.median);
    compare(out, `${size} B pipelined produce vs NATS lean async publish`, "rec/s", pipelined, find(nats, "NATS core publish", size)?.recordsPerSec?.median);
    const unary = find(ours, "produce one at a time", size);
    const natsSync = find(nats, "NATS js.publish one at a time", size);
    compare(out, `${size} B one-at-a-time produce vs NATS one at a time`, "rec/s", unary?.recordsPerSec?.median, natsSync?.recordsPerSec?.median);
    compare(out, `${size} B one-at-a-time p50 vs NATS one-at-a-time p50`, "ms", unary?.p50Ms, natsSync?.p50Ms);
    compare(out, `${size} B Subscribe vs NATS consume()`, "rec/s", find(ours, "Subscribe", size)?.recordsPerSec?.median, find(nats, "NATS pull consume", size)?.recordsPerSec?.median);
    compare(out, `${size} B Fetch vs NATS fetch(1000)`, "rec/s", find(ours, "Fetch", size)?.recordsPerSec?.median, find(nats, "NATS pull fetch", size)?.recordsPerSec?.median);
  }
  return out;
}

function num(v: number | undefined, digits: number): string {
  return v === undefined || !Number.isFinite(v) ? "" : v.toFixed(digits);
}

function rate(s: Spread | undefined): string {
  if (!s || !Number.isFinite(s.median)) return "";
  return `${Math.round(s.median)} (${Math.round(s.min)}-${Math.round(s.max)})`;
}

function perNode(values: number[] | undefined, digits: number): string {
  return values === undefined ? "" : values.map((v) => num(v, digits)).join(" / ");
}

export function rowsTable(rows: Row[]): string {
  const lines = [
    "| workload | size | runs | records/s median (min-max) | MB/s | p50 ms | p99 ms | server CPU µs/rec | per node, leader first | RSS max MiB per node | client CPU µs/rec | others' cores | errors |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.workload} | ${r.sizeBytes} B | ${r.runs} | ${rate(r.recordsPerSec)} | ${num(r.mbPerSec, 2)} | ${num(r.p50Ms, 2)} | ${num(r.p99Ms, 2)} | ${num(r.serverCpuUsPerRecord, 0)} | ${perNode(r.nodeCpuUsPerRecord, 0)} | ${perNode(r.nodeRssMaxMiB, 0)} | ${num(r.clientCpuUsPerRecord, 0)} | ${num(r.otherCores, 2)} | ${r.errors ?? ""} |`,
    );
  }
  return lines.join("\n");
}

export function comparisonsTable(cs: Comparison[]): string {
  const lines = ["| comparison | ours | reference | unit | ours / reference |", "|---|---|---|---|---|"];
  for (const c of cs) {
    const digits = c.unit === "ms" ? 3 : 0;
    lines.push(`| ${c.what} | ${c.ours.toFixed(digits)} | ${c.reference.toFixed(digits)} | ${c.unit} | ${c.ratio.toFixed(2)} |`);
  }
  return lines.join("\n");
}
