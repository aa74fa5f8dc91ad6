// Leadership transfer (thesis §3.10): the leader stops taking proposals, catches the target up, then
// tells it to campaign at once with TimeoutNow.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfChangeType, MessageType, ProposalErrorCode, Role } from "../../src/raft";
import { ofType, RaftScenario } from "../support/raft-scenario";

function stableCluster(): RaftScenario {
  const s = RaftScenario.cluster([1, 2, 3]);
  s.campaign(1);
  s.stabilize();
  return s;
}

test("transfer to an up-to-date follower: TimeoutNow at once, and it wins past the others' leases", () => {
  const s = stableCluster();
  assert.equal(s.transferLeadership(1, 2).ok, true);
  assert.equal(s.pending(ofType(MessageType.TimeoutNow)).length, 1);
  s.stabilize();
  assert.equal(s.role(2), Role.Leader, s.describe());
  assert.equal(s.term(2), 2);
  assert.equal(s.leaderOf(1), 2);
  assert.equal(s.leaderOf(3), 2);
});

test("transfer to a lagging follower: proposals are refused while the leader catches it up", () => {
  const s = stableCluster();
  s.isolate(3);
  s.propose(1, "a", "b", "c");
  s.stabilize();
  assert.equal(s.commit(1), 4);
  assert.equal(s.status(3).lastIndex, 1, "node 3 missed three entries");
  s.heal();

  const result = s.transferLeadership(1, 3);
  assert.equal(result.ok, true);
  assert.equal(s.pending(ofType(MessageType.TimeoutNow)).length, 0, "not before node 3 has caught up");
  assert.equal(s.status(1).transferee, 3);
  const refused = s.propose(1, "d");
  assert.equal(refused.ok, false);
  assert.equal(!refused.ok && refused.code, ProposalErrorCode.TransferInProgress);

  s.stabilize();
  assert.equal(s.role(3), Role.Leader, s.describe());
  assert.deepEqual(s.applied(3), ["a", "b", "c"]);
  assert.equal(s.propose(3, "d").ok, true);
  s.stabilize();
  assert.deepEqual(s.applied(1), ["a", "b", "c", "d"]);
});

test("a transfer that cannot finish is abandoned after an election timeout", () => {
  const s = stableCluster();
  s.isolate(3);
  s.propose(1, "a");
  s.stabilize();
  assert.equal(s.transferLeadership(1, 3).ok, true);
  s.tick(1, 9);
  s.stabilize();
  assert.equal(s.status(1).transferee, 3);
  s.tick(1, 1);
  assert.equal(s.status(1).transferee, 0);
  assert.equal(s.role(1), Role.Leader);
  assert.equal(s.propose(1, "b").ok, true, "proposals flow again");
});

test("transfer to self, to an unknown node or to a learner is rejected; a follower points to the leader", () => {
  const s = stableCluster();
  s.addNode(4, { voters: [1, 2, 3], learners: [] });
  s.proposeConfChange(1, { type: ConfChangeType.AddLearner, nodeId: 4 });
  s.stabilize();
  assert.deepEqual(s.status(1).conf.learners, [4]);

  for (const target of [1, 9, 4]) {
    const r = s.transferLeadership(1, target);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.code, ProposalErrorCode.TransferRejected, `target ${target}`);
  }
  const r = s.transferLeadership(2, 3);
  assert.equal(!r.ok && r.code, ProposalErrorCode.NotLeader);
  assert.equal(!r.ok && r.leader, 1);
  assert.equal(s.status(1).transferee, 0);
});
