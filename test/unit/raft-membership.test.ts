// Membership changes, one server at a time (thesis §4.1–4.2), and learners (non-voting members).
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfChangeType, ProposalErrorCode, ProposeResult, Role } from "../../src/raft";
import { RaftScenario } from "../support/raft-scenario";

function stableCluster(options = {}): RaftScenario {
  const s = RaftScenario.cluster([1, 2, 3], options);
  s.campaign(1);
  s.stabilize();
  return s;
}

function refusal(r: ProposeResult): string {
  assert.equal(r.ok, false, "expected a refusal");
  return r.ok ? "" : `${r.code}: ${r.message}`;
}

test("a learner receives the log but neither counts towards commit nor campaigns", () => {
  const s = stableCluster();
  s.addNode(4, { voters: [1, 2, 3], learners: [] });
  assert.equal(s.proposeConfChange(1, { type: ConfChangeType.AddLearner, nodeId: 4 }).ok, true);
  s.stabilize();
  for (const id of [1, 2, 3, 4]) assert.deepEqual(s.status(id).conf, { voters: [1, 2, 3], learners: [4] });

  s.propose(1, "a");
  s.stabilize();
  assert.deepEqual(s.applied(4), ["a"]);

  // With two voters cut off, leader + learner are not a quorum.
  s.cut(1, 2);
  s.cut(1, 3);
  s.propose(1, "b");
  s.stabilize();
  assert.equal(s.status(4).lastIndex, s.status(1).lastIndex, "the learner has the entry");
  assert.equal(s.commit(1), s.status(1).lastIndex - 1, "but it is not committed");

  s.isolate(4);
  s.tick(4, 100);
  assert.equal(s.role(4), Role.Follower, "a learner never campaigns");
});

test("learner promotion: refused while the learner lags, accepted once it has caught up", () => {
  const s = stableCluster({ learnerCatchUpEntries: 10 });
  s.addNode(4, { voters: [1, 2, 3], learners: [] });
  s.proposeConfChange(1, { type: ConfChangeType.AddLearner, nodeId: 4 });
  s.stabilize();

  s.isolate(4);
  for (let k = 0; k < 20; k++) s.propose(1, `e${k}`);
  s.stabilize();
  const lagging = s.proposeConfChange(1, { type: ConfChangeType.AddVoter, nodeId: 4 });
  assert.match(refusal(lagging), /^CONF_CHANGE_REJECTED: learner 4 is not caught up: .*20 entries behind, at most 10/);

  s.heal();
  s.tickAndStabilize(2);
  assert.equal(s.status(4).lastIndex, s.status(1).lastIndex);
  assert.equal(s.proposeConfChange(1, { type: ConfChangeType.AddVoter, nodeId: 4 }).ok, true);
  s.stabilize();
  assert.deepEqual(s.status(1).conf, { voters: [1, 2, 3, 4], learners: [] });
  assert.deepEqual(s.status(4).conf, { voters: [1, 2, 3, 4], learners: [] });

  // Four voters: a quorum is three.
  s.cut(1, 2);
  s.cut(1, 3);
  const last = s.status(1).lastIndex;
  s.propose(1, "needs three");
  s.stabilize();
  assert.equal(s.commit(1), last);
  s.heal();
  s.tickAndStabilize(1);
  assert.equal(s.commit(1), last + 1);
});

test("one change at a time: a second change waits until the first is applied", () => {
  const s = stableCluster();
  s.addNode(4, { voters: [1, 2, 3], learners: [] });
  s.addNode(5, { voters: [1, 2, 3], learners: [] });
  const first = s.proposeConfChange(1, { type: ConfChangeType.AddLearner, nodeId: 4 });
  assert.equal(first.ok, true);
  const second = s.proposeConfChange(1, { type: ConfChangeType.AddLearner, nodeId: 5 });
  assert.match(refusal(second), /membership change is in flight: wait until entry \d+ is applied/);
  s.stabilize();
  assert.equal(s.proposeConfChange(1, { type: ConfChangeType.AddLearner, nodeId: 5 }).ok, true);
  s.stabilize();
  assert.deepEqual(s.status(5).conf.learners, [4, 5]);
});

test("a new leader proposes no change until its term-start entry is applied", () => {
  const s = RaftScenario.cluster([1, 2, 3]);
  s.addNode(4, { voters: [1, 2, 3], learners: [] });
  s.campaign(1);
  s.deliver(); // pre-votes
  s.deliver(); // pre-vote answers
  s.deliver(); // votes
  s.deliver(); // vote answers: node 1 leads and sends its no-op
  assert.equal(s.role(1), Role.Leader);
  const early = s.proposeConfChange(1, { type: ConfChangeType.AddLearner, nodeId: 4 });
  assert.match(refusal(early), /in flight: wait until entry 1 is applied/);
  s.stabilize();
  assert.equal(s.proposeConfChange(1, { type: ConfChangeType.AddLearner, nodeId: 4 }).ok, true);
});

test("invalid changes are refused with a reason", () => {
  const s = stableCluster();
  assert.match(refusal(s.proposeConfChange(1, { type: ConfChangeType.AddVoter, nodeId: 2 })), /node 2 is already a voter/);
  assert.match(refusal(s.proposeConfChange(1, { type: ConfChangeType.RemoveVoter, nodeId: 7 })), /node 7 is not a member/);
  assert.match(refusal(s.proposeConfChange(1, { type: ConfChangeType.AddLearner, nodeId: 3 })), /demotion/);
  const follower = s.proposeConfChange(2, { type: ConfChangeType.AddLearner, nodeId: 4 });
  assert.equal(!follower.ok && follower.code, ProposalErrorCode.NotLeader);
  assert.equal(!follower.ok && follower.leader, 1);
});

test("removing a follower: the leader stops replicating to it and commits with the rest", () => {
  const s = stableCluster();
  s.proposeConfChange(1, { type: ConfChangeType.RemoveVoter, nodeId: 3 });
  s.stabilize();
  assert.deepEqual(s.status(1).conf.voters, [1, 2]);
  assert.deepEqual(
    s.status(1).progress.map((p) => p.id),
    [2],
  );
  s.propose(1, "x");
  s.stabilize();
  assert.deepEqual(s.applied(2), ["x"]);
  assert.deepEqual(s.applied(3), [], "node 3 is no longer sent anything");
  s.tick(3, 100);
  assert.equal(s.role(3), Role.Follower, "a removed node does not campaign");
});

test("removing the leader: it steps down once the change is applied, and the rest elect a new one", () => {
  const s = stableCluster();
  assert.equal(s.proposeConfChange(1, { type: ConfChangeType.RemoveVoter, nodeId: 1 }).ok, true);
  s.stabilize();
  assert.equal(s.role(1), Role.Follower);
  assert.deepEqual(s.status(1).conf.voters, [2, 3]);
  // The followers learnt that the change committed, and applied it.
  assert.deepEqual(s.status(2).conf.voters, [2, 3]);
  assert.deepEqual(s.status(3).conf.voters, [2, 3]);

  s.tickAndStabilize(40);
  const leaders = s.leaders();
  assert.equal(leaders.length, 1, s.describe());
  assert.notEqual(leaders[0].id, 1);
  assert.equal(s.role(1), Role.Follower, "the removed node never campaigned");
  assert.equal(s.propose(leaders[0].id, "after").ok, true);
  s.stabilize();
  assert.deepEqual(s.applied(leaders[0].id === 2 ? 3 : 2), ["after"]);
});

test("a node added while the log is compacted gets a snapshot that includes the new membership", () => {
  const s = stableCluster();
  s.addNode(4, { voters: [], learners: [] });
  s.proposeConfChange(1, { type: ConfChangeType.AddLearner, nodeId: 4 });
  s.isolate(4);
  s.stabilize();
  s.propose(1, "a", "b");
  s.stabilize();
  s.compact(1, s.status(1).applied);
  s.heal();
  s.tickAndStabilize(2);
  assert.deepEqual(s.applied(4), ["a", "b"]);
  assert.deepEqual(s.status(4).conf, { voters: [1, 2, 3], learners: [4] });
});

test("a node that starts knowing no members learns the membership from a snapshot, not from the entries", () => {
  const s = stableCluster();
  // Node 4 knows nothing. The bootstrap membership [1 2 3] is in no entry (it is the index-0 snapshot),
  // so replaying AddVoter(4) onto an empty membership would make node 4 a group of one.
  s.addNode(4, { voters: [], learners: [] });
  assert.equal(s.proposeConfChange(1, { type: ConfChangeType.AddVoter, nodeId: 4 }).ok, true);
  s.stabilize();
  s.tickAndStabilize(3);
  assert.deepEqual(s.status(4).conf, { voters: [1, 2, 3, 4], learners: [] });
  assert.equal(s.status(4).lastIndex, s.status(1).lastIndex);

  // Alone, node 4 can never win.
  s.isolate(4);
  s.tick(4, 100);
  s.stabilize();
  assert.notEqual(s.role(4), Role.Leader);
});

test("a founding member back on an empty directory, knowing no members, gets the log-start snapshot from a leader that never compacted", () => {
  const s = stableCluster();
  s.propose(1, "a");
  s.stabilize();
  // Node 3 was a member at the log start (index 0), so the leader would replay entries to it; but on a
  // fresh directory it starts as a joiner that takes no entries before it has a membership.
  s.wipe(3, { voters: [], learners: [] });
  s.proposeConfChange(1, { type: ConfChangeType.RemoveVoter, nodeId: 3 });
  s.stabilize();
  s.proposeConfChange(1, { type: ConfChangeType.AddLearner, nodeId: 3 });
  s.stabilize();
  s.tickAndStabilize(3);
  assert.deepEqual(s.status(3).conf, { voters: [1, 2], learners: [3] });
  assert.equal(s.status(3).lastIndex, s.status(1).lastIndex, "it caught up");
  assert.deepEqual(s.applied(3), ["a"]);
});

test("a node that starts with the bootstrap membership replays the log from index 1", () => {
  const s = stableCluster();
  s.addNode(4, { voters: [1, 2, 3], learners: [] });
  s.proposeConfChange(1, { type: ConfChangeType.AddLearner, nodeId: 4 });
  s.propose(1, "a");
  s.stabilize();
  s.tickAndStabilize(3);
  assert.deepEqual(s.status(4).conf, { voters: [1, 2, 3], learners: [4] });
  assert.deepEqual(s.applied(4), ["a"]);
});
