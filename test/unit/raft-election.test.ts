// Elections (Raft §5.2, thesis §9.6 PreVote, §6.2 CheckQuorum) as readable scenarios.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MessageType, Role } from "../../src/raft";
import { ofType, RaftScenario } from "../support/raft-scenario";

test("a campaigning node becomes leader and commits its term-start no-op everywhere", () => {
  const s = RaftScenario.cluster([1, 2, 3]);
  s.campaign(1);
  s.stabilize();

  assert.equal(s.role(1), Role.Leader, s.describe());
  assert.equal(s.role(2), Role.Follower);
  assert.equal(s.role(3), Role.Follower);
  for (const id of [1, 2, 3]) {
    assert.equal(s.term(id), 1);
    assert.equal(s.logTerms(id), "1");
    assert.equal(s.commit(id), 1);
    assert.equal(s.leaderOf(id), 1);
  }
});

test("an election timeout starts a pre-vote round, then a real one", () => {
  const s = RaftScenario.cluster([1, 2, 3], { electionTicks: 10 });
  // The randomized timeout lies in [10, 20): after 19 ticks node 1 has certainly started campaigning.
  s.tick(1, 19);
  assert.equal(s.role(1), Role.PreCandidate);
  assert.equal(s.term(1), 0, "a pre-candidate does not bump its term");
  assert.equal(s.pending(ofType(MessageType.PreVote)).length, 2);

  s.stabilize();
  assert.equal(s.role(1), Role.Leader);
  assert.equal(s.term(1), 1);
});
