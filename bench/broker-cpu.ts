// CPU time spent by the server processes and by this (client) process during a measurement, so a figure
// can be read as "CPU-bound" or "waiting on something else" (fsync, the network, a timer).
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

export interface CpuSeconds {
  /** All server processes together. */
  serverSeconds: number;
  /** The benchmark's own process (the client side). */
  clientSeconds: number;
  /** Every other process on the machine: this machine is shared, and this is the noise. */
  otherSeconds: number;
}

interface CpuSample {
  serverSeconds: number;
  clientSeconds: number;
  machineSeconds: number;
}

/** Cumulative CPU so far; subtract with cpuSince. */
export function sampleCpu(serverPids: readonly number[]): CpuSample {
  const usage = process.cpuUsage();
  return {
    serverSeconds: serverPids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0),
    clientSeconds: (usage.user + usage.system) / 1e6,
    machineSeconds: machineBusySeconds(),
  };
}

export function cpuSince(start: CpuSample, serverPids: readonly number[]): CpuSeconds {
  const end = sampleCpu(serverPids);
  const serverSeconds = end.serverSeconds - start.serverSeconds;
  const clientSeconds = end.clientSeconds - start.clientSeconds;
  // Clock-tick rounding can make a quiet machine's remainder slightly negative.
  const otherSeconds = Math.max(0, end.machineSeconds - start.machineSeconds - serverSeconds - clientSeconds);
  return { serverSeconds, clientSeconds, otherSeconds };
}
