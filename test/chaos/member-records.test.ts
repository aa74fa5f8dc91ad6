// The member-records check against planted bugs: nodes that disagree on a record, and a voter recorded
// under an incarnation it no longer runs (a wiped node whose replacement was not recorded), must fail.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MembersSeen, memberRecordChecks, runningIncarnation } from "./member-records";

const running = new Map([
  [1, "a1"],
  [2, "b2"],
  [3, "c1"],
]);

function seenBy(node: number, changes: Partial<Record<number, string>> = {}): MembersSeen {
  return { node, members: [1, 2, 3].map((id) => ({ id, voter: true, recordedIncarnation: changes[id] ?? running.get(id) ?? "" })) };
}

test("agreeing records that name what each voter runs pass", () => {
  assert.deepEqual(memberRecordChecks([seenBy(1), seenBy(2), seenBy(3)], running), []);
  const withLearner: MembersSeen = { node: 1, members: [...seenBy(1).members, { id: 4, voter: false, recordedIncarnation: "" }] };
  assert.deepEqual(memberRecordChecks([withLearner], running), [], "a learner not yet recorded is fine");
});

test("planted: a node whose records differ from the others' is caught", () => {
  const violations = memberRecordChecks([seenBy(1), seenBy(2, { 3: "c0" })], running);
  assert.ok(violations.some((v) => v.check === "member-records" && /node 1 records .* but node 2 records .*3=c0/.test(v.message)), JSON.stringify(violations));
});

test("planted: a voter recorded under an incarnation it no longer runs is caught", () => {
  const stale = { 2: "b1" };
  const violations = memberRecordChecks([seenBy(1, stale), seenBy(3, stale)], running);
  assert.deepEqual(
    violations.map((v) => v.message),
    ["node 1 records voter 2 as incarnation b1, but node 2 runs b2", "node 3 records voter 2 as incarnation b1, but node 2 runs b2"],
  );
});

test("the running incarnation is the last one a node's log announced", () => {
  const log = [
    '{"level":30,"node":2,"clusterId":"c","incarnation":"b1","joined":false,"msg":"node identity"}',
    '{"level":30,"node":2,"msg":"serving"}',
    '{"level":30,"node":2,"clusterId":"c","incarnation":"b2","joined":false,"msg":"node identity"}',
  ].join("\n");
  assert.equal(runningIncarnation(log), "b2");
  assert.equal(runningIncarnation('{"msg":"serving"}'), undefined);
});
