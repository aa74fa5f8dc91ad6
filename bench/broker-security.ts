// What security costs, from the plain and the secure cluster measured in the same run: per workload and
// record size, secure throughput as a share of plain, and the servers' CPU per record of each.
import type { Row } from "./broker-report";

function cell(n: number | undefined, digits = 1): string {
  return n === undefined || !Number.isFinite(n) ? "-" : n.toFixed(digits);
}

export function securityCostTable(plain: readonly Row[], secure: readonly Row[]): string {
  const header = ["workload", "size B", "plain rec/s", "secure rec/s", "secure/plain", "plain srv µs/rec", "secure srv µs/rec"];
  const lines = [header.join(" | "), header.map(() => "---").join(" | ")];
  for (const p of plain) {
    const s = secure.find((r) => r.workload === p.workload && r.sizeBytes === p.sizeBytes);
    if (!s || !p.recordsPerSec || !s.recordsPerSec) continue;
    const ratio = s.recordsPerSec.median / p.recordsPerSec.median;
    lines.push(
      [p.workload, String(p.sizeBytes), cell(p.recordsPerSec.median, 0), cell(s.recordsPerSec.median, 0), `${(ratio * 100).toFixed(0)}%`, cell(p.serverCpuUsPerRecord), cell(s.serverCpuUsPerRecord)].join(" | "),
    );
  }
  return `Cost of security (same run, medians):\n\n${lines.join("\n")}`;
}
