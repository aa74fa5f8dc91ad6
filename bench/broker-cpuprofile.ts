// Reads a V8 .cpuprofile (written by node --cpu-prof) and sums self time by function+file and by file,
// optionally only for samples inside a time window (profile timestamps are CLOCK_MONOTONIC microseconds,
// the same clock as process.hrtime in any process on the machine).
//
//   node dist/bench/broker-cpuprofile.js FILE.cpuprofile [--from-us N --to-us N] [--top N]
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { repoRoot } from "./broker-paths";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  selfMs: number;
  /** Share of the window's sampled time, idle included. */
  share: number;
}

export interface ProfileSummary {
  /** Sampled time inside the window. */
  totalMs: number;
  idleMs: number;
  /** Garbage collector time, as V8 attributes it. */
  gcMs: number;
  /** Time in neither JavaScript nor GC nor idle: native code, the event loop, syscalls such as fsync waits are idle instead. */
  programMs: number;
  topFunctions: SelfTime[];
  topFiles: SelfTime[];
}

export interface TimeWindowUs {
  fromUs: number;
  toUs: number;
}

export function readCpuProfile(path: string): CpuProfile {
  const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
  const p = parsed as Partial<CpuProfile>;
  if (!Array.isArray(p.nodes) || !Array.isArray(p.samples) || !Array.isArray(p.timeDeltas) || typeof p.startTime !== "number") {
    throw new Error(`${path} is not a V8 cpuprofile`);
  }
  return parsed as CpuProfile;
}

const root = ((): string => {
  try {
    return repoRoot();
  } catch {
    return "";
  }
})();

/** A file as people name it: relative to the repository, a package folder, or node's own module. */
export function shortFile(url: string): string {
  if (url === "") return "(native)";
  const path = url.startsWith("file://") ? decodeURIComponent(url.slice("file://".length)) : url;
  const inModules = path.lastIndexOf("node_modules/");
  if (inModules >= 0) return path.slice(inModules);
  if (root && path.startsWith(root)) return relative(root, path);
  return path;
}

/** The package or project folder a file belongs to, for the coarse view. */
function fileOf(frame: CallFrame): string {
  if (frame.url === "") return frame.functionName.startsWith("(") ? frame.functionName : "(native)";
  return shortFile(frame.url);
}

function functionOf(frame: CallFrame): string {
  if (frame.url === "") return frame.functionName || "(native)";
  return `${frame.functionName || "(anonymous)"} ${shortFile(frame.url)}:${frame.lineNumber + 1}`;
}

function top(map: Map<string, number>, totalMs: number, count: number): SelfTime[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, selfMs]) => ({ name, selfMs, share: totalMs > 0 ? selfMs / totalMs : 0 }));
}

/** Each sample is charged the time until the next one (the last, until the profile's end). */
export function summarizeProfile(profile: CpuProfile, window: TimeWindowUs | undefined, topCount: number): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  let gcMs = 0;
  let programMs = 0;
  let t = profile.startTime;
  const times = profile.samples.map((_, i) => (t += profile.timeDeltas[i]));
  for (let i = 0; i < profile.samples.length; i++) {
    const at = times[i];
    if (window && (at < window.fromUs || at > window.toUs)) continue;
    const next = i + 1 < times.length ? times[i + 1] : profile.endTime;
    const ms = Math.max(0, next - at) / 1000;
    const frame = byId.get(profile.samples[i]);
    if (!frame) continue;
    totalMs += ms;
    if (frame.functionName === "(idle)") idleMs += ms;
    else if (frame.functionName === "(garbage collector)") gcMs += ms;
    else if (frame.functionName === "(program)") programMs += ms;
    const fn = functionOf(frame);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
    const file = fileOf(frame);
    byFile.set(file, (byFile.get(file) ?? 0) + ms);
  }
  return { totalMs, idleMs, gcMs, programMs, topFunctions: top(byFunction, totalMs, topCount), topFiles: top(byFile, totalMs, topCount) };
}

export function formatSummary(title: string, s: ProfileSummary): string {
  const pct = (v: number): string => `${((100 * v) / Math.max(s.totalMs, 1e-9)).toFixed(1)}%`;
  const lines = [
    `${title}: ${s.totalMs.toFixed(0)} ms sampled; busy ${pct(s.totalMs - s.idleMs)} (idle ${pct(s.idleMs)}, GC ${pct(s.gcMs)}, (program) ${pct(s.programMs)})`,
    "  top self time by function:",
    ...s.topFunctions.map((f) => `    ${f.selfMs.toFixed(0).padStart(7)} ms ${pct(f.selfMs).padStart(6)}  ${f.name}`),
    "  top self time by file:",
    ...s.topFiles.map((f) => `    ${f.selfMs.toFixed(0).padStart(7)} ms ${pct(f.selfMs).padStart(6)}  ${f.name}`),
  ];
  return lines.join("\n");
}

function main(argv: string[]): void {
  const file = argv.find((a) => !a.startsWith("--"));
  if (!file) {
    process.stderr.write("usage: broker-cpuprofile FILE.cpuprofile [--from-us N --to-us N] [--top N]\n");
    process.exit(2);
  }
  const flag = (name: string): number | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 && i + 1 < argv.length ? Number(argv[i + 1]) : undefined;
  };
  const fromUs = flag("--from-us");
  const toUs = flag("--to-us");
  const window = fromUs !== undefined && toUs !== undefined ? { fromUs, toUs } : undefined;
  process.stdout.write(`${formatSummary(file, summarizeProfile(readCpuProfile(file), window, flag("--top") ?? 20))}\n`);
}

if (require.main === module) main(process.argv.slice(2));
