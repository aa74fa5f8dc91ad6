// The member records in the replicated state, after the chaos: every node has applied the same records
// for the same members, and each voter's record names the incarnation (data directory) that node really
// runs — the one its peers let vote. A wiped node whose record still named its lost incarnation, or a node
// whose snapshot lost the records, fails here.
import * as grpc from "@grpc/grpc-js";
import type { DescribeClusterResponse__Output } from "../../src/generated/raftline/v1/DescribeClusterResponse";
import type { Cluster } from "../support/cluster";
import { rawStubs, unaryCall } from "../support/raw-stubs";
import { waitFor } from "../support/wait";
import { Findings } from "./checker";
import type { Violation } from "./model";

/** One node's applied view of the members: id, whether it votes, the incarnation recorded for it. */
export interface MembersSeen {
  node: number;
  members: { id: number; voter: boolean; recordedIncarnation: string }[];
}

/** How long the nodes get to agree once the load has stopped. */
const agreeDeadlineMs = 15000;
const describeTimeoutMs = 2000;

/** The incarnation a node's log says it runs under now: the last "node identity" line. */
export function runningIncarnation(logText: string): string | undefined {
  let found: string | undefined;
  for (const m of logText.matchAll(/"incarnation":"([0-9a-f]+)"[^\n]*"msg":"node identity"/g)) found = m[1];
  return found;
}

const describe = (m: MembersSeen["members"][number]): string => `${m.id}${m.voter ? "" : " (learner)"}=${m.recordedIncarnation || "none"}`;

export function memberRecordChecks(seen: readonly MembersSeen[], running: ReadonlyMap<number, string>): Violation[] {
  const found = new Findings("member-records");
  const [first, ...others] = seen;
  if (first === undefined) return found.list();
  const text = (s: MembersSeen): string => s.members.map(describe).join(", ");
  for (const other of others) {
    if (text(other) !== text(first)) found.add(`node ${first.node} records [${text(first)}] but node ${other.node} records [${text(other)}]`);
  }
  for (const s of seen) {
    for (const m of s.members.filter((x) => x.voter)) {
      const actual = running.get(m.id);
      if (m.recordedIncarnation !== actual) {
        found.add(`node ${s.node} records voter ${m.id} as incarnation ${m.recordedIncarnation || "none"}, but node ${m.id} runs ${actual ?? "an unknown one"}`);
      }
    }
  }
  return found.list();
}

async function membersSeenBy(node: number, address: string): Promise<MembersSeen> {
  const stubs = rawStubs(address);
  try {
    const res = await unaryCall<DescribeClusterResponse__Output>((o, cb) => stubs.admin.DescribeCluster({}, new grpc.Metadata(), o, cb), describeTimeoutMs);
    return { node, members: res.nodes.map((n) => ({ id: n.id, voter: n.voter, recordedIncarnation: n.recordedIncarnation })) };
  } finally {
    stubs.close();
  }
}

/** Reads every running node's records until they pass (or the deadline), then reports what is left. */
export async function checkMemberRecords(cluster: Cluster, running: ReadonlyMap<number, string>): Promise<Violation[]> {
  let last: Violation[] = [];
  await waitFor(
    async () => {
      const live = cluster.nodes.filter((n) => n.running && !n.paused);
      const seen = await Promise.all(live.map((n) => membersSeenBy(n.id, n.clientAddress)));
      last = memberRecordChecks(seen, running);
      return last.length === 0;
    },
    agreeDeadlineMs,
    "the nodes' member records to agree",
  ).catch(() => undefined);
  return last;
}
