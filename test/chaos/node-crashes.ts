// Nodes that died on their own. Between faults every node the nemesis touched has been restarted, so a
// node that is not running then has crashed; its log's last error says why.
import { existsSync, readFileSync } from "node:fs";
import type { Cluster } from "../support/cluster";

/** The last error or fatal line of a pino log (levels 50 and 60), as "message" or the raw line. */
export function lastErrorOf(logText: string): string | undefined {
  const lines = logText.trimEnd().split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /"level":(50|60)\b/.exec(lines[i]);
    if (!m) continue;
    try {
      const parsed = JSON.parse(lines[i]) as { msg?: string; err?: { message?: string } };
      return [parsed.msg, parsed.err?.message].filter((s) => s !== undefined && s !== "").join(": ");
    } catch {
      return lines[i];
    }
  }
  return undefined;
}

/** Every node that is not running, with its last logged error. */
export function crashedNodes(cluster: Cluster): { node: number; message: string }[] {
  return cluster.nodes
    .filter((n) => !n.running)
    .map((n) => {
      const why = existsSync(n.logPath) ? lastErrorOf(readFileSync(n.logPath, "utf8")) : undefined;
      return { node: n.id, message: `node ${n.id} exited by itself${why ? ` — last error: ${why}` : ""} (log ${n.logPath})` };
    });
}
