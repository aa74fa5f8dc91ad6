// Resident memory of server processes (Linux), read from /proc every interval: start, max and end per process.
import { readFileSync } from "node:fs";

export interface RssSummary {
  startMiB: number;
  maxMiB: number;
  endMiB: number;
}

export function rssMiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export class RssSampler {
  private readonly samples = new Map<number, number[]>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pids: () => readonly number[],
    intervalMs: number,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Stops sampling and summarizes each process seen. */
  stop(): Map<number, RssSummary> {
    clearInterval(this.timer);
    this.sample();
    const out = new Map<number, RssSummary>();
    for (const [pid, values] of this.samples) {
      out.set(pid, { startMiB: values[0], maxMiB: Math.max(...values), endMiB: values[values.length - 1] });
    }
    return out;
  }

  private sample(): void {
    for (const pid of this.pids()) {
      const rss = rssMiB(pid);
      if (rss === undefined) continue;
      let values = this.samples.get(pid);
      if (!values) this.samples.set(pid, (values = []));
      values.push(rss);
    }
  }
}
