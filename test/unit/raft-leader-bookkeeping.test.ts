// The leader's bookkeeping at its edges: learner flags across leader changes and promotions, the learner
// catch-up bound, the uncommitted-tail bound, a lone voter's reads, and when a transfer sends TimeoutNow.
// Each test pins a rule that mutation testing showed no other test held.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfChangeType, MessageType, ProposalErrorCode, Role } from "../../src/raft";
import { between, ofType, RaftScenario } from "../support/raft-scenario";

function stableCluster(options = {}): RaftScenario {
  const s = RaftScenario.cluster([1, 2, 3], options);
  s.campaign(1);
  s.stabilize();
  return s;
}

function withLearner4(options = {}): RaftScenario {
  const s = stableCluster(options);
  s.addNode(4, { voters: [1, 2, 3], learners: [] });
  assert.equal(s.proposeConfChange(1, { type: ConfChangeType.AddLearner, nodeId: 4 }).ok, true);
  s.stabilize();
  return s;
}

function learnerFlag(s: RaftScenario, leader: number, id: number): boolean | undefined {
  return s.status(leader).progress.find((p) => p.id === id)?.learner;
}

test("a new leader still knows a learner as a learner and refuses to transfer leadership to it", () => {
  const s = withLearner4();
  assert.equal(s.transferLeadership(1, 2).ok, true);
  s.stabilize();
  assert.equal(s.role(2), Role.Leader, s.describe());
  assert.equal(learnerFlag(s, 2, 4), true);
  const r = s.transferLeadership(2, 4);
  assert.equal(!r.ok && r.code, ProposalErrorCode.TransferRejected);
});

test("a promoted learner is a voter in the leader's progress: leadership can move to it", () => {
  const s = withLearner4();
  assert.equal(s.proposeConfChange(1, { type: ConfChangeType.AddVoter, nodeId: 4 }).ok, true);
  s.stabilize();
  assert.equal(learnerFlag(s, 1, 4), false);
  assert.equal(s.transferLeadership(1, 4).ok, true);
  s.stabilize();
  assert.equal(s.role(4), Role.Leader, s.describe());
});

test("learner promotion at exactly learnerCatchUpEntries behind is accepted", () => {
  const s = withLearner4({ learnerCatchUpEntries: 10 });
  s.isolate(4);
  for (let k = 0; k < 10; k++) s.propose(1, `e${k}`);
  s.stabilize();
  assert.equal(s.status(1).lastIndex - s.status(4).lastIndex, 10);
  assert.equal(s.proposeConfChange(1, { type: ConfChangeType.AddVoter, nodeId: 4 }).ok, true);
});

test("removing a lagging learner is not held back by the catch-up bound", () => {
  const s = withLearner4({ learnerCatchUpEntries: 10 });
  s.isolate(4);
  for (let k = 0; k < 20; k++) s.propose(1, `e${k}`);
  s.stabilize();
  assert.equal(s.proposeConfChange(1, { type: ConfChangeType.RemoveVoter, nodeId: 4 }).ok, true);
  s.stabilize();
  assert.deepEqual(s.status(1).conf, { voters: [1, 2, 3], learners: [] });
});

test("uncommitted tail: an empty tail admits a proposal larger than the bound; zero bytes always pass; a conf change counts", () => {
  const s = stableCluster({ maxUncommittedBytes: 10 });
  s.isolate(1);
  assert.equal(s.propose(1, "123456789012").ok, true, "12 bytes on an empty tail");
  const full = s.propose(1, "x");
  assert.equal(!full.ok && full.code, ProposalErrorCode.UncommittedTailFull);
  assert.equal(s.propose(1, "").ok, true, "an entry without data adds nothing to the tail");
  const cc = s.proposeConfChange(1, { type: ConfChangeType.AddLearner, nodeId: 4 });
  assert.equal(!cc.ok && cc.code, ProposalErrorCode.UncommittedTailFull);
});

test("uncommitted tail: committing part of it frees only that part", () => {
  const s = stableCluster({ maxUncommittedBytes: 10 });
  assert.equal(s.propose(1, "aaaaa").ok, true);
  s.deliver(ofType(MessageType.App));
  assert.equal(s.propose(1, "bbbb").ok, true, "9 bytes uncommitted");
  s.drop(ofType(MessageType.App));
  s.deliver(ofType(MessageType.AppResp));
  assert.deepEqual(s.applied(1), ["aaaaa"], "only the first entry committed");
  const r = s.propose(1, "ccccccc");
  assert.equal(!r.ok && r.code, ProposalErrorCode.UncommittedTailFull, "4 bytes still uncommitted, 4 + 7 > 10");
});

test("a lone voter serves a read at once", () => {
  const s = RaftScenario.cluster([1]);
  s.campaign(1);
  s.stabilize();
  assert.equal(s.role(1), Role.Leader);
  const r = s.readIndex(1, "r1");
  assert.equal(r.ok, true);
  assert.deepEqual(
    s.readStates(1).map((rs) => rs.index),
    [s.commit(1)],
  );
});

test("a transfer sends TimeoutNow only once the target holds the leader's whole log", () => {
  // One entry per App, so the lagging target acknowledges its catch-up step by step.
  const s = stableCluster({ maxMsgBytes: 1 });
  s.isolate(3);
  s.propose(1, "a", "b", "c");
  s.stabilize();
  s.heal();
  assert.equal(s.transferLeadership(1, 3).ok, true);
  let acks = 0;
  for (let round = 0; round < 50 && s.pending(ofType(MessageType.TimeoutNow)).length === 0; round++) {
    acks += s.pending((m) => between(3, 1)(m) && m.type === MessageType.AppResp && !m.reject).length;
    assert.ok(s.deliver() > 0, "the transfer stalled");
  }
  assert.ok(acks >= 2, `the target caught up in ${acks} acknowledgements`);
  const three = s.status(1).progress.find((p) => p.id === 3);
  assert.equal(three?.match, s.status(1).lastIndex);
  s.stabilize();
  assert.equal(s.role(3), Role.Leader, s.describe());
});

function stateOf(s: RaftScenario, leader: number, id: number): string | undefined {
  return s.status(leader).progress.find((p) => p.id === id)?.state;
}

test("transport reports: unreachable sends only a replicating follower back to probe; a snapshot report only ends snapshot state", () => {
  const s = stableCluster();
  assert.equal(stateOf(s, 1, 2), "replicate");
  s.node(1).reportSnapshot(2, true);
  s.node(1).reportSnapshot(2, false);
  assert.equal(stateOf(s, 1, 2), "replicate", "no snapshot was in flight to node 2");
  s.node(1).reportUnreachable(2);
  assert.equal(stateOf(s, 1, 2), "probe");

  // Node 3 is sent a snapshot (as in raft-snapshot.test): an unreachable report does not cancel it.
  s.isolate(3);
  s.propose(1, "a", "b");
  s.stabilize();
  s.compact(1, 3);
  s.heal();
  s.tick(1);
  for (let round = 0; round < 4; round++) s.deliver();
  assert.equal(s.pending(ofType(MessageType.Snap)).length, 1);
  assert.equal(stateOf(s, 1, 3), "snapshot");
  s.node(1).reportUnreachable(3);
  assert.equal(stateOf(s, 1, 3), "snapshot");

  // Reports about unknown nodes, or reaching a node that does not lead, change nothing and do not throw.
  s.node(1).reportUnreachable(9);
  s.node(1).reportSnapshot(9, false);
  s.node(2).reportUnreachable(3);
  s.node(2).reportSnapshot(3, true);
  assert.equal(s.role(2), Role.Follower);
});

test("CheckQuorum gives a new voter one check period of grace before its silence counts", () => {
  const s = RaftScenario.cluster([1], { electionTicks: 10 });
  s.campaign(1);
  s.stabilize();
  assert.equal(s.proposeConfChange(1, { type: ConfChangeType.AddVoter, nodeId: 2 }).ok, true);
  s.stabilize();
  assert.deepEqual(s.status(1).conf.voters, [1, 2], "node 2 never started: it will not answer");
  s.tick(1, 10);
  assert.equal(s.role(1), Role.Leader, "the first check counts the newcomer as active");
  s.tick(1, 10);
  assert.equal(s.role(1), Role.Follower, "the second sees a silent majority");
});

test("CheckQuorum: a new leader counts itself, so with exactly a majority reachable it survives its first check", () => {
  const s = RaftScenario.cluster([1, 2, 3], { electionTicks: 10 });
  s.isolate(3);
  s.campaign(1);
  s.stabilize();
  assert.equal(s.role(1), Role.Leader);
  s.tickAndStabilize(10);
  assert.equal(s.role(1), Role.Leader, "itself and node 2 are a majority");
});
