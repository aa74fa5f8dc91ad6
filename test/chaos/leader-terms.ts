// Election safety as the nodes themselves report it: every node logs "role changed" with its new role and
// term, and "node identity" with its incarnation each time it starts. No term may have two leaders — two
// node ids, or two incarnations of one id (a wiped node that voted or led again under its old identity).
import type { Violation } from "./model";
import { Findings } from "./checker";

/** One node incarnation taking the lead in one term, as its log says. */
export interface LeaderClaim {
  node: number;
  incarnation: string;
  term: number;
}

interface LogLine {
  msg?: unknown;
  role?: unknown;
  term?: unknown;
  incarnation?: unknown;
}

/** The leader claims in one node's log (every start appended to the same file). */
export function leaderClaims(node: number, logText: string): LeaderClaim[] {
  const claims: LeaderClaim[] = [];
  let incarnation = "unknown";
  for (const line of logText.split("\n")) {
    if (!line.startsWith("{")) continue;
    let parsed: LogLine;
    try {
      parsed = JSON.parse(line) as LogLine;
    } catch {
      continue;
    }
    if (parsed.msg === "node identity" && typeof parsed.incarnation === "string") incarnation = parsed.incarnation;
    if (parsed.msg === "role changed" && parsed.role === "Leader" && typeof parsed.term === "number") {
      claims.push({ node, incarnation, term: parsed.term });
    }
  }
  return claims;
}

/** At most one node incarnation led in each term. */
export function oneLeaderPerTerm(claims: readonly LeaderClaim[]): Violation[] {
  const found = new Findings("leader-per-term");
  const byTerm = new Map<number, Map<string, LeaderClaim>>();
  for (const c of claims) {
    const leaders = byTerm.get(c.term) ?? new Map<string, LeaderClaim>();
    leaders.set(`${c.node}/${c.incarnation}`, c);
    byTerm.set(c.term, leaders);
  }
  for (const [term, leaders] of [...byTerm].sort((a, b) => a[0] - b[0])) {
    if (leaders.size < 2) continue;
    const who = [...leaders.values()].map((c) => `node ${c.node} (incarnation ${c.incarnation})`).join(" and ");
    found.add(`term ${term} had ${leaders.size} leaders: ${who}`);
  }
  return found.list();
}
