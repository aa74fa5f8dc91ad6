// Fast failover: a follower whose connection to its leader was reset campaigns at once (through a pre-vote)
// instead of waiting out the election timeout; a false alarm on one link never deposes a healthy leader.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MessageType, Role } from "../../src/raft";
import { newMessage } from "../../src/raft/messages";
import { RaftScenario } from "../support/raft-scenario";

function clusterLedBy1(options: { preVote?: boolean; checkQuorum?: boolean } = {}): RaftScenario {
  const s = RaftScenario.cluster([1, 2, 3], options);
  s.campaign(1);
  s.stabilize();
  assert.equal(s.role(1), Role.Leader);
  return s;
}

test("when the leader's process dies, its followers elect a new leader without a single tick", () => {
  const s = clusterLedBy1();
  const term = s.term(1);
  s.isolate(1);
  s.connectionLost(2, 1);
  s.connectionLost(3, 1);
  s.stabilize();
  const leaders = s.leaders().filter((l) => l.id !== 1);
  assert.equal(leaders.length, 1);
  assert.equal(leaders[0].term, term + 1);
});

test("a pre-vote that reaches a voter before it saw the reset itself is ignored, and the election still ends without ticks", () => {
  const s = clusterLedBy1();
  s.isolate(1);
  s.connectionLost(2, 1);
  // Node 3 still holds node 1's lease: it ignores node 2's pre-vote.
  assert.equal(s.deliver((m) => m.type === MessageType.PreVote && m.to === 3), 1);
  assert.equal(s.pending((m) => m.type === MessageType.PreVoteResp).length, 0);
  s.connectionLost(3, 1);
  s.stabilize();
  const leaders = s.leaders().filter((l) => l.id !== 1);
  assert.equal(leaders.length, 1);
});

test("a reset seen by one follower of a healthy leader changes no term and no leader", () => {
  const s = clusterLedBy1();
  const term = s.term(1);
  s.connectionLost(2, 1);
  assert.equal(s.role(2), Role.PreCandidate);
  s.stabilize();
  s.tickAndStabilize(3);
  assert.equal(s.role(1), Role.Leader);
  assert.equal(s.term(1), term);
  assert.equal(s.term(2), term);
  assert.equal(s.term(3), term);
  assert.equal(s.leaderOf(2), 1);
  assert.equal(s.leaderOf(3), 1);
});

test("a reset of a link to a node that is not the leader changes nothing", () => {
  const s = clusterLedBy1();
  s.connectionLost(2, 3);
  assert.equal(s.role(2), Role.Follower);
  assert.equal(s.leaderOf(2), 1);
  assert.equal(s.pending((m) => m.type === MessageType.PreVote).length, 0);
});

test("without PreVote and CheckQuorum a reset waits for the election timeout as before", () => {
  for (const options of [{ preVote: false }, { checkQuorum: false }]) {
    const s = clusterLedBy1(options);
    s.connectionLost(2, 1);
    assert.equal(s.role(2), Role.Follower);
    assert.equal(s.leaderOf(2), 1);
    assert.equal(s.pending((m) => m.type === MessageType.PreVote || m.type === MessageType.Vote).length, 0);
  }
});

test("leaderConnectionLost says whether the node campaigns", () => {
  const s = clusterLedBy1();
  assert.equal(s.node(2).leaderConnectionLost(3), false, "3 is not the leader");
  assert.equal(s.node(1).leaderConnectionLost(2), false, "a leader has no leader to lose");
  assert.equal(s.node(2).leaderConnectionLost(1), true, "a follower losing its leader campaigns");
  assert.equal(s.node(2).leaderConnectionLost(1), false, "a pre-candidate already campaigns");
  for (const options of [{ preVote: false }, { checkQuorum: false }]) {
    assert.equal(clusterLedBy1(options).node(2).leaderConnectionLost(1), false, `no campaign with ${JSON.stringify(options)}`);
  }
});

test("two pre-candidates of one term: the higher id yields to the lower, the lower keeps campaigning", () => {
  const s = clusterLedBy1();
  const term = s.term(1);
  s.isolate(1);
  s.connectionLost(2, 1);
  s.connectionLost(3, 1);
  assert.equal(s.role(2), Role.PreCandidate);
  assert.equal(s.role(3), Role.PreCandidate);
  // Each hears the other's pre-vote for term + 1 before any answer.
  assert.equal(s.deliver((m) => m.type === MessageType.PreVote && m.from === 2 && m.to === 3), 1);
  assert.equal(s.deliver((m) => m.type === MessageType.PreVote && m.from === 3 && m.to === 2), 1);
  assert.equal(s.role(3), Role.Follower, "node 3 yields to node 2");
  assert.equal(s.role(2), Role.PreCandidate, "node 2 does not yield to a higher id");
  s.stabilize();
  assert.deepEqual(s.leaders().filter((l) => l.id !== 1).map((l) => [l.id, l.term]), [[2, term + 1]]);
});

test("only a pre-candidate yields to a lower id's pre-vote: a follower granting one keeps its leader", () => {
  // Without CheckQuorum there is no lease, so the follower answers the pre-vote; granting it changes nothing.
  const s = clusterLedBy1({ checkQuorum: false });
  s.campaign(2);
  assert.equal(s.deliver((m) => m.type === MessageType.PreVote && m.from === 2 && m.to === 3), 1);
  const answer = s.pending((m) => m.type === MessageType.PreVoteResp && m.from === 3);
  assert.equal(answer.length, 1);
  assert.equal(answer[0].reject, false, "node 3 grants the pre-vote");
  assert.equal(s.role(3), Role.Follower);
  assert.equal(s.leaderOf(3), 1, "and still follows node 1");
});

test("a pre-candidate yields only to a pre-vote for its own next term, not to one further ahead", () => {
  const s = clusterLedBy1();
  const term = s.term(3);
  s.isolate(1);
  s.connectionLost(3, 1);
  assert.equal(s.role(3), Role.PreCandidate);
  s.drop();
  const ahead = newMessage(MessageType.PreVote, 2, 3, term + 2);
  ahead.index = s.status(3).lastIndex;
  ahead.logTerm = term;
  s.inject(ahead);
  assert.equal(s.deliver((m) => m === ahead), 1);
  const answer = s.pending((m) => m.type === MessageType.PreVoteResp && m.from === 3);
  assert.equal(answer.length, 1);
  assert.equal(answer[0].reject, false, "node 3 grants it");
  assert.equal(s.role(3), Role.PreCandidate, "but keeps campaigning");
});

test("a reset reported for no leader (id 0) on a node that knows none starts no campaign", () => {
  const s = RaftScenario.cluster([1, 2, 3]);
  s.connectionLost(2, 0);
  assert.equal(s.role(2), Role.Follower);
  assert.equal(s.pending().length, 0);
});
