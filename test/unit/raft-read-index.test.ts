// ReadIndex (thesis §6.4): linearizable reads without writing to the log.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MessageType, ProposalErrorCode, Role } from "../../src/raft";
import { ofType, RaftScenario } from "../support/raft-scenario";

function stableCluster(): RaftScenario {
  const s = RaftScenario.cluster([1, 2, 3]);
  s.campaign(1);
  s.stabilize();
  s.propose(1, "a");
  s.stabilize();
  return s;
}

test("on the leader: a heartbeat round confirms leadership, then the read is served at the commit index", () => {
  const s = stableCluster();
  assert.equal(s.readIndex(1, "read-1").ok, true);
  const beats = s.pending(ofType(MessageType.Heartbeat));
  assert.deepEqual(
    beats.map((m) => m.context),
    ["read-1", "read-1"],
  );
  assert.deepEqual(s.readStates(1), [], "not before a quorum answered");
  s.deliver(); // heartbeats
  s.deliver(ofType(MessageType.HeartbeatResp));
  assert.deepEqual(s.readStates(1), [{ index: 2, context: "read-1" }]);
});

test("on the leader: one answer besides its own is a quorum of three", () => {
  const s = stableCluster();
  s.isolate(3);
  s.readIndex(1, "r");
  s.stabilize();
  assert.deepEqual(s.readStates(1), [{ index: 2, context: "r" }]);
});

test("a leader cut off from the quorum never serves the read (the caller times out)", () => {
  const s = stableCluster();
  s.isolate(1);
  assert.equal(s.readIndex(1, "r").ok, true);
  s.stabilize();
  s.tick(1, 5);
  s.stabilize();
  assert.deepEqual(s.readStates(1), []);
});

test("via a follower: forwarded to the leader, answered with the leader's read index", () => {
  const s = stableCluster();
  assert.equal(s.readIndex(2, "follower-read").ok, true);
  assert.deepEqual(
    s.pending(ofType(MessageType.ReadIndex)).map((m) => [m.from, m.to, m.context]),
    [[2, 1, "follower-read"]],
  );
  s.stabilize();
  assert.deepEqual(s.readStates(2), [{ index: 2, context: "follower-read" }]);
  assert.deepEqual(s.readStates(1), [], "the leader only answers");
});

test("a follower that knows no leader refuses the read", () => {
  const s = RaftScenario.cluster([1, 2, 3]);
  const r = s.readIndex(2, "r");
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.code, ProposalErrorCode.NotLeader);
});

test("a new leader defers reads until it has committed an entry of its own term", () => {
  const s = stableCluster();
  s.transferLeadership(1, 2);
  for (let round = 0; round < 10 && s.role(2) !== Role.Leader; round++) s.deliver();
  assert.equal(s.role(2), Role.Leader);
  // Node 2 leads term 2, but until its no-op commits it cannot know the latest commit index.
  assert.equal(s.readIndex(2, "early").ok, true);
  assert.equal(s.pending(ofType(MessageType.Heartbeat)).length, 0, "no heartbeat round yet");
  s.stabilize();
  assert.deepEqual(s.readStates(2), [{ index: 3, context: "early" }], "served after the no-op at index 3 committed");
});

test("reads in a single-node cluster are served at once", () => {
  const s = RaftScenario.cluster([1]);
  s.campaign(1);
  s.stabilize();
  s.readIndex(1, "solo");
  assert.deepEqual(s.readStates(1), [{ index: 1, context: "solo" }]);
});
