// The one-leader-per-term check against planted bugs: logs in the nodes' own format where two nodes, or
// two incarnations of one node, lead in the same term must fail; ordinary elections must pass.
import assert from "node:assert/strict";
import { test } from "node:test";
import { leaderClaims, oneLeaderPerTerm } from "./leader-terms";

function line(fields: Record<string, unknown>): string {
  return JSON.stringify({ level: 30, time: 1, node: 1, ...fields });
}

const identity = (incarnation: string): string => line({ msg: "node identity", incarnation, role: "Follower", term: 0 });
const becameLeader = (term: number): string => line({ msg: "role changed", leader: 1, role: "Leader", term });
const becameFollower = (term: number): string => line({ msg: "role changed", leader: 2, role: "Follower", term });

function claimsOf(logs: Record<number, string[]>): ReturnType<typeof leaderClaims> {
  return Object.entries(logs).flatMap(([node, lines]) => leaderClaims(Number(node), lines.join("\n")));
}

test("leaders of distinct terms pass, whatever else the logs hold", () => {
  const claims = claimsOf({
    1: [identity("a1"), becameLeader(2), becameFollower(3), "not json", line({ msg: "serving" }), becameLeader(5)],
    2: [identity("b1"), becameFollower(2), becameLeader(3)],
    3: [identity("c1"), line({ msg: "role changed", role: "Candidate", term: 4 })],
  });
  assert.deepEqual(claims.map((c) => c.term).sort(), [2, 3, 5]);
  assert.deepEqual(oneLeaderPerTerm(claims), []);
});

test("the same incarnation logging the lead twice in a term is one leader", () => {
  assert.deepEqual(oneLeaderPerTerm(claimsOf({ 1: [identity("a1"), becameLeader(4), becameLeader(4)] })), []);
});

test("planted: two nodes leading in one term are caught", () => {
  const violations = oneLeaderPerTerm(claimsOf({ 1: [identity("a1"), becameLeader(7)], 2: [identity("b1"), becameLeader(7)] }));
  assert.equal(violations.length, 1);
  assert.equal(violations[0].check, "leader-per-term");
  assert.match(violations[0].message, /term 7 had 2 leaders: node 1 \(incarnation a1\) and node 2 \(incarnation b1\)/);
});

test("planted: a wiped node leading again in a term its old incarnation led is caught", () => {
  const violations = oneLeaderPerTerm(claimsOf({ 3: [identity("c1"), becameLeader(9), identity("c2"), becameLeader(9)] }));
  assert.equal(violations.length, 1);
  assert.match(violations[0].message, /term 9 had 2 leaders: node 3 \(incarnation c1\) and node 3 \(incarnation c2\)/);
});
