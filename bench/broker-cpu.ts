// CPU time spent by the server processes and by this (client) process during a measurement, so a figure
// can be read as "CPU-bound" or "waiting on something else" (fsync, the network, a timer), and the peak
// resident memory of each server while it ran.
import { readFileSync } from "node:fs";

/** Linux reports utime/stime in clock ticks of USER_HZ, which is 100 on every mainstream kernel. */
const clockTicksPerSecond = 100;

/** User + system CPU seconds of a live process, or NaN when /proc cannot tell (exited, not Linux). */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // Fields after the parenthesised command name, which itself may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
  } catch {
    return NaN;
  }
}

/** Busy CPU seconds of the whole machine (user, nice, system, irq, softirq, steal), or NaN off Linux. */
export function machineBusySeconds(): number {
  try {
    const first = readFileSync("/proc/stat", "latin1").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = first;
    return (user + nice + system + irq + softirq + steal) / clockTicksPerSecond;
  } catch {
    return NaN;
  }
}

/** Resident set size of a live process in bytes, or NaN when /proc cannot tell. */
export function processRssBytes(pid: number): number {
  try {
    const statm = readFileSync(`/proc/${pid}/statm`, "latin1").split(" ");
    return Number(statm[1]) * pageBytes;
  } catch {
    return NaN;
  }
}

/** Linux's page size on x86-64 and arm64 (statm counts pages). */
const pageBytes = 4096;
/** How often a measurement samples the servers' RSS: peaks shorter than this may be missed. */
const rssSampleMs = 50;

export interface CpuSeconds {
  /** All server processes together. */
  serverSeconds: number;
  /** Each server process, in the order of the pids given (the bench puts the leader first). */
  perServerSeconds: number[];
  /** Peak RSS of each server process during the measurement, MiB, same order. */
  perServerRssMaxMiB: number[];
  /** The benchmark's own process (the client side). */
  clientSeconds: number;
  /** Every other process on the machine: this machine is shared, and this is the noise. */
  otherSeconds: number;
}

interface CpuSample {
  perServerSeconds: number[];
  clientSeconds: number;
  machineSeconds: number;
  /** Peak RSS per server so far, updated by `sampler` until cpuSince stops it. */
  rssMaxBytes: number[];
  sampler: NodeJS.Timeout;
}

function cumulative(serverPids: readonly number[]): Omit<CpuSample, "rssMaxBytes" | "sampler"> {
  const usage = process.cpuUsage();
  return {
    perServerSeconds: serverPids.map(processCpuSeconds),
    clientSeconds: (usage.user + usage.system) / 1e6,
    machineSeconds: machineBusySeconds(),
  };
}

/** Cumulative CPU so far, and a start of RSS sampling; end both with cpuSince. */
export function sampleCpu(serverPids: readonly number[]): CpuSample {
  const rssMaxBytes = serverPids.map(processRssBytes);
  const sampler = setInterval(() => {
    serverPids.forEach((pid, i) => {
      const rss = processRssBytes(pid);
      if (rss > rssMaxBytes[i] || Number.isNaN(rssMaxBytes[i])) rssMaxBytes[i] = rss;
    });
  }, rssSampleMs);
  // A measurement that throws before cpuSince must not keep the bench alive.
  sampler.unref();
  return { ...cumulative(serverPids), rssMaxBytes, sampler };
}

export function cpuSince(start: CpuSample, serverPids: readonly number[]): CpuSeconds {
  clearInterval(start.sampler);
  const end = cumulative(serverPids);
  const perServerSeconds = end.perServerSeconds.map((s, i) => s - start.perServerSeconds[i]);
  const serverSeconds = perServerSeconds.reduce((sum, s) => sum + s, 0);
  const clientSeconds = end.clientSeconds - start.clientSeconds;
  // Clock-tick rounding can make a quiet machine's remainder slightly negative.
  const otherSeconds = Math.max(0, end.machineSeconds - start.machineSeconds - serverSeconds - clientSeconds);
  const perServerRssMaxMiB = serverPids.map((pid, i) => {
    const last = processRssBytes(pid);
    const peak = last > start.rssMaxBytes[i] || Number.isNaN(start.rssMaxBytes[i]) ? last : start.rssMaxBytes[i];
    return peak / 2 ** 20;
  });
  return { serverSeconds, perServerSeconds, perServerRssMaxMiB, clientSeconds, otherSeconds };
}
