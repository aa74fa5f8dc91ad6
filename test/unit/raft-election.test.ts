// Elections (Raft §5.2, §5.4.1), PreVote (thesis §9.6), CheckQuorum and the leader lease (thesis §6.2,
// §4.2.3) as scenarios.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MessageType, Role } from "../../src/raft";
import { ofType, RaftScenario, to } from "../support/raft-scenario";

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
  s.tick(1, 9);
  assert.equal(s.role(1), Role.Follower, "no campaign before electionTicks");
  s.tick(1, 10);
  assert.equal(s.role(1), Role.PreCandidate);
  assert.equal(s.term(1), 0, "a pre-candidate does not bump its term");
  assert.equal(s.pending(ofType(MessageType.PreVote)).length, 2);
  assert.equal(s.pending(ofType(MessageType.PreVote))[0].term, 1, "it asks for the term it would run in");

  s.deliver();
  assert.equal(s.term(2), 0, "voters answer a pre-vote without changing state");
  assert.equal(s.node(2).status().role, Role.Follower);
  s.stabilize();
  assert.equal(s.role(1), Role.Leader);
  assert.equal(s.term(1), 1);
});

test("randomized election timeouts lie in [electionTicks, 2*electionTicks)", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const s = RaftScenario.cluster([1, 2, 3], { electionTicks: 10, seed });
    let ticks = 0;
    while (s.role(1) === Role.Follower) {
      s.tick(1);
      ticks++;
    }
    assert.ok(ticks >= 10 && ticks < 20, `seed ${seed}: campaigned after ${ticks} ticks`);
  }
});

test("one vote per term: of two candidates in the same term, a voter grants only the first", () => {
  const s = RaftScenario.cluster([1, 2, 3], { preVote: false, checkQuorum: false });
  s.campaign(1);
  s.campaign(2);
  // Node 3 hears node 1 first.
  s.deliver((m) => m.type === MessageType.Vote && m.to === 3 && m.from === 1);
  s.deliver((m) => m.type === MessageType.Vote && m.to === 3 && m.from === 2);
  const answers = s.pending((m) => m.type === MessageType.VoteResp && m.from === 3);
  assert.deepEqual(
    answers.map((m) => [m.to, m.reject]),
    [
      [1, false],
      [2, true],
    ],
  );
  s.stabilize();
  assert.equal(s.role(1), Role.Leader, s.describe());
  assert.equal(s.role(2), Role.Follower);
});

test("a vote goes only to a log at least as up to date as the voter's (§5.4.1)", () => {
  const s = RaftScenario.withLogs({ 1: [1, 1], 2: [1, 1, 1], 3: [1, 1] }, { preVote: false, checkQuorum: false });
  s.campaign(1);
  s.deliver(ofType(MessageType.Vote));
  const answers = s.pending(ofType(MessageType.VoteResp));
  // Node 2's log ends at (3, t1), beyond node 1's (2, t1); node 3's equals node 1's.
  assert.deepEqual(
    answers.map((m) => [m.from, m.reject]),
    [
      [2, true],
      [3, false],
    ],
  );
  s.stabilize();
  assert.equal(s.role(1), Role.Leader);
  assert.equal(s.logTerms(2), "1 1 2", "node 2's extra entry was never committed: the leader's no-op replaces it");
});

test("two pre-candidates for one term: the higher id yields, so the vote that follows is not split", () => {
  const s = RaftScenario.cluster([1, 2, 3]);
  s.isolate(3);
  s.campaign(1);
  s.campaign(2);
  s.stabilize();
  assert.deepEqual(s.leaders(), [{ id: 1, term: 1 }], s.describe());
  assert.equal(s.role(2), Role.Follower);
});

test("split votes: two candidates in one term, no leader; the next randomized timeout settles it", () => {
  const s = RaftScenario.cluster([1, 2, 3], { preVote: false });
  s.isolate(3);
  // Without pre-votes each votes for itself in term 1.
  s.campaign(1);
  s.campaign(2);
  s.stabilize();
  assert.equal(s.role(1), Role.Candidate);
  assert.equal(s.role(2), Role.Candidate);
  assert.equal(s.term(1), 1);
  assert.equal(s.term(2), 1);
  assert.deepEqual(s.leaders(), []);

  // Different randomized timeouts: one of them tries again first and wins term 2.
  for (let k = 0; k < 40 && s.leaders().length === 0; k++) s.tickAndStabilize(1);
  const leaders = s.leaders();
  assert.equal(leaders.length, 1, s.describe());
  assert.equal(leaders[0].term, 2);
});

test("a stale leader rejoining after a partition learns the new term and steps down", () => {
  const s = RaftScenario.cluster([1, 2, 3]);
  s.campaign(1);
  s.stabilize();
  // Node 1 is cut off and frozen (no ticks, so it does not even notice); the others elect a new leader.
  s.isolate(1);
  for (let k = 0; k < 40 && s.leaders().length < 2; k++) {
    s.tick(2);
    s.tick(3);
    s.stabilize();
  }
  const newLeader = s.role(2) === Role.Leader ? 2 : 3;
  assert.equal(s.role(newLeader), Role.Leader, s.describe());
  assert.equal(s.term(newLeader), 2);
  // The stale leader still takes a write; it can never commit.
  assert.equal(s.propose(1, "lost write").ok, true);
  assert.equal(s.logTerms(1), "1 1");

  s.heal();
  // Its next heartbeat reaches followers of term 2; their answer carries the newer term.
  s.tick(1);
  s.stabilize();
  assert.equal(s.role(1), Role.Follower);
  assert.equal(s.term(1), 2);
  s.tickAndStabilize(1);
  assert.equal(s.leaderOf(1), newLeader);
  assert.equal(s.logTerms(1), "1 2", "the uncommitted write of the stale term is replaced");
  assert.deepEqual(s.applied(1), []);
});

test("PreVote: a partitioned node cannot inflate its term and disrupt the leader when it returns", () => {
  const s = RaftScenario.cluster([1, 2, 3]);
  s.campaign(1);
  s.stabilize();
  s.isolate(3);
  s.tick(3, 100);
  assert.equal(s.role(3), Role.PreCandidate);
  assert.equal(s.term(3), 1, "hundreds of ticks later, still term 1");

  s.heal();
  s.tickAndStabilize(3);
  assert.equal(s.role(1), Role.Leader);
  assert.equal(s.term(1), 1);
  assert.equal(s.leaderOf(3), 1);
});

test("without PreVote the same partitioned node does inflate its term and forces a new election", () => {
  const s = RaftScenario.cluster([1, 2, 3], { preVote: false, checkQuorum: false });
  s.campaign(1);
  s.stabilize();
  s.isolate(3);
  s.tick(3, 100);
  assert.ok(s.term(3) > 3, `term ${s.term(3)}`);

  s.heal();
  // Heartbeats of term 1 do not bring node 3 back; its next timeout sends a vote request of a higher term.
  s.tick(3, 20);
  s.stabilize();
  assert.ok(s.term(1) > 1, "the leader was pushed out of its term");
});

test("CheckQuorum: a leader that cannot hear from a quorum steps down", () => {
  const s = RaftScenario.cluster([1, 2, 3], { electionTicks: 10 });
  s.campaign(1);
  s.stabilize();
  s.isolate(1);
  // The first check passes on what it heard before the partition; the next one, an election timeout
  // later, fails.
  s.tick(1, 10);
  assert.equal(s.role(1), Role.Leader);
  s.tick(1, 10);
  assert.equal(s.role(1), Role.Follower);
  assert.equal(s.term(1), 1);
  assert.equal(s.leaderOf(1), 0);
});

test("CheckQuorum: a leader that hears from a quorum stays", () => {
  const s = RaftScenario.cluster([1, 2, 3], { electionTicks: 10 });
  s.campaign(1);
  s.stabilize();
  s.isolate(3);
  for (let k = 0; k < 50; k++) {
    s.tick(1);
    s.stabilize();
  }
  assert.equal(s.role(1), Role.Leader);
});

test("leader lease: a follower that hears from a live leader ignores vote requests", () => {
  const s = RaftScenario.cluster([1, 2, 3], { preVote: false });
  s.campaign(1);
  s.stabilize();
  // Node 3 campaigns at term 2 without PreVote (as a partitioned or removed node might).
  s.campaign(3);
  assert.equal(s.term(3), 2);
  s.deliver(ofType(MessageType.Vote));
  assert.equal(s.pending(ofType(MessageType.VoteResp)).length, 0, "no answer at all");
  assert.equal(s.term(2), 1, "node 2 did not adopt the higher term");
  assert.equal(s.leaderOf(2), 1);
  assert.equal(s.role(1), Role.Leader, "the leader is undisturbed");

  // After an election timeout without the leader, the lease is over and the request is heard.
  s.isolate(1);
  s.tick(2, 10);
  s.campaign(3);
  s.deliver(to(2));
  assert.equal(s.pending((m) => m.type === MessageType.VoteResp && m.from === 2).length, 1);
});

test("a removed or non-voting node never campaigns", () => {
  const s = RaftScenario.cluster([1, 2, 3]);
  s.addNode(4, { voters: [1, 2, 3], learners: [] });
  s.tick(4, 100);
  assert.equal(s.role(4), Role.Follower);
  assert.equal(s.pending().length, 0);
});
