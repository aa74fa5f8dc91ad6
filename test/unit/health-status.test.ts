import { test } from "node:test";
import assert from "node:assert/strict";
import { servingStatus } from "../../src/server/health";
import type { Replica } from "../../src/server/replica";

function replicaAt(leaderId: number, applied: number, commit: number): Replica<unknown> {
  return { leaderId, appliedIndex: applied, raftNode: { status: () => ({ commit }) } } as unknown as Replica<unknown>;
}

test("a node serves only while it knows a leader and has applied through the commit index it heard of", () => {
  assert.equal(servingStatus(replicaAt(2, 10, 10)), "SERVING");
  assert.equal(servingStatus(replicaAt(0, 10, 10)), "NOT_SERVING", "no leader known");
  assert.equal(servingStatus(replicaAt(2, 9, 10)), "NOT_SERVING", "committed entries not yet applied");
});
