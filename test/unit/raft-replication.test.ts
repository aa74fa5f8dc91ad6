// Log replication (Raft §5.3–5.4): the paper's Figures 7 and 8, fast back-off, batching and pipelining.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MessageType, Role } from "../../src/raft";
import { between, from, ofType, RaftScenario, to } from "../support/raft-scenario";

// Figure 7: the leader of term 8 holds the top log; each follower log (a)–(f) arose from some history of
// crashes and elections. Whatever the follower holds, the leader brings it into agreement with its own.
const figure7Leader = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
const figure7Followers: Record<string, number[]> = {
  "(a) missing one entry": [1, 1, 1, 4, 4, 5, 5, 6, 6],
  "(b) missing many entries": [1, 1, 1, 4],
  "(c) one extra entry of term 6": [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
  "(d) extra entries of term 7": [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
  "(e) extra entries of term 4": [1, 1, 1, 4, 4, 4, 4],
  "(f) a whole divergent history": [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
};

for (const [name, followerLog] of Object.entries(figure7Followers)) {
  test(`Figure 7 ${name}: the leader brings the follower's log into agreement`, () => {
    // Node 3 starts empty: its vote (with node 1's own) elects node 1 even when node 2 would refuse.
    const s = RaftScenario.withLogs({ 1: figure7Leader, 2: followerLog, 3: [] }, { commit: 0 });
    s.campaign(1);
    s.stabilize();

    assert.equal(s.role(1), Role.Leader, s.describe());
    const leaderTerm = s.term(1);
    const expected = [...figure7Leader, leaderTerm].join(" ");
    assert.equal(s.logTerms(1), expected);
    assert.equal(s.logTerms(2), expected, "the follower's conflicting entries are replaced");
    assert.equal(s.logTerms(3), expected);
    for (const id of [1, 2, 3]) assert.equal(s.commit(id), 11);
  });
}

test("Figure 7 (f): fast back-off needs one rejection, not one per divergent entry", () => {
  const s = RaftScenario.withLogs({ 1: figure7Leader, 2: figure7Followers["(f) a whole divergent history"], 3: [] });
  s.campaign(1);
  let rejections = 0;
  for (let round = 0; round < 100 && s.pending().length > 0; round++) {
    rejections += s.pending((m) => m.type === MessageType.AppResp && m.reject && m.from === 2).length;
    s.deliver();
  }
  // The follower's hint (index 10, term 3) lets the leader jump straight past every entry of terms 2–3.
  assert.equal(rejections, 1);
  assert.equal(s.logTerms(2), s.logTerms(1));
});

// Figure 8: a leader may not conclude that an entry of an earlier term is committed just because it is
// on a majority; only entries of its own term are committed by counting (§5.4.2). The paper's 5 nodes,
// without PreVote and CheckQuorum, one entry per App message so that each step can be held apart.
function figure8c(): RaftScenario {
  // (b) S1 led term 2 and wrote (2, t2) before crashing; S5 led term 3 and wrote (2, t3) before crashing.
  const s = RaftScenario.withLogs({ 1: [1, 2], 2: [1], 3: [1], 4: [1], 5: [1, 3] }, {
    commit: 1,
    preVote: false,
    checkQuorum: false,
    maxMsgBytes: 1,
  });
  s.isolate(5);
  s.cut(1, 4);
  // (c) S1 restarts and is elected for term 4 by S2, S3 and S4.
  s.campaign(1);
  s.deliver(ofType(MessageType.Vote));
  s.deliver(ofType(MessageType.VoteResp));
  assert.equal(s.role(1), Role.Leader);
  assert.equal(s.term(1), 4);
  assert.equal(s.logTerms(1), "1 2 4", "S1 starts term 4 with its no-op at index 3");
  // S1 replicates (2, t2) to S2 and S3: each first rejects the probe at index 2, then takes entry 2 alone.
  s.deliver(ofType(MessageType.App));
  for (let round = 0; round < 3; round++) {
    s.deliver((m) => m.type === MessageType.AppResp || (m.type === MessageType.App && m.entries.every((e) => e.index <= 2)));
  }
  assert.equal(s.logTerms(2), "1 2");
  assert.equal(s.logTerms(3), "1 2");
  return s;
}

/** The network heals, but `id` is down: nothing reaches it and what it had sent is lost. */
function crash(s: RaftScenario, id: number): void {
  s.heal();
  s.isolate(id);
  s.drop(from(id));
}

test("Figure 8 (c)→(d): an old-term entry on a majority is not committed, and may be overwritten", () => {
  const s = figure8c();
  // (2, t2) is on S1, S2 and S3 — a majority of five — yet S1 must not commit it.
  assert.equal(s.commit(1), 1, s.describe());

  // (d) S1 crashes; S5 comes back. Its first try, at term 4, meets S2 and S3 that already voted in
  // term 4; at term 5 it wins with votes from S2, S3 and S4, because its last term 3 beats their 2.
  crash(s, 1);
  s.campaign(5);
  s.stabilize();
  assert.equal(s.role(5), Role.Candidate);
  s.campaign(5);
  s.stabilize();
  assert.equal(s.role(5), Role.Leader, s.describe());
  assert.equal(s.term(5), 5);
  for (const id of [2, 3, 4, 5]) assert.equal(s.logTerms(id).split(" ")[1], "3", `S${id} holds (2, t3) now`);
  // Safe: (2, t2) was never reported committed, so overwriting it breaks no promise (the harness also
  // checks that no node ever applies a different entry at a committed index).
  assert.ok(s.commit(5) >= 2);
});

test("Figure 8 (c)→(e): once an entry of the leader's own term is on a majority, the older one commits with it", () => {
  const s = figure8c();
  // (e) S1 gets its term-4 no-op onto S2 and S3 as well.
  s.deliver(from(1));
  s.deliver(to(1));
  assert.equal(s.commit(1), 3, s.describe());
  // Now S5 cannot win: S2 and S3 hold a term-4 entry, more up to date than S5's log.
  crash(s, 1);
  s.campaign(5);
  s.stabilize();
  s.campaign(5);
  s.stabilize();
  assert.equal(s.role(5), Role.Candidate, s.describe());
  assert.equal(s.term(5), 5);
});

test("App messages carry at most maxMsgBytes of entries, but always at least one", () => {
  const s = RaftScenario.cluster([1, 2, 3], { maxMsgBytes: 10 });
  s.campaign(1);
  s.stabilize();
  s.propose(1, "aaaa", "bbbb", "cccc", "dddddddddddddddd");
  const apps = s.pending((m) => m.type === MessageType.App && m.to === 2);
  // Replicate state pipelines: the four entries leave as [aaaa bbbb] [cccc] [dddd...] within the window.
  assert.deepEqual(
    apps.map((m) => m.entries.length),
    [2, 1, 1],
  );
  s.stabilize();
  assert.deepEqual(s.applied(2), ["aaaa", "bbbb", "cccc", "dddddddddddddddd"]);
});

test("in replicate state at most maxInflightMsgs App messages are unacknowledged", () => {
  const s = RaftScenario.cluster([1, 2, 3], { maxMsgBytes: 1, maxInflightMsgs: 3 });
  s.campaign(1);
  s.stabilize();
  s.propose(1, "a", "b", "c", "d", "e", "f");
  assert.equal(s.pending(between(1, 2)).length, 3, "the window is full after three messages");
  // Each acknowledgement frees room for one more.
  s.deliver(between(1, 2));
  s.deliver(between(2, 1));
  assert.equal(s.pending(between(1, 2)).length, 3);
  s.stabilize();
  assert.deepEqual(s.applied(2), ["a", "b", "c", "d", "e", "f"]);
});

test("heartbeats tell a follower to commit only what it is known to hold", () => {
  const s = RaftScenario.cluster([1, 2, 3]);
  s.campaign(1);
  s.stabilize();
  s.cut(1, 3);
  s.propose(1, "x");
  s.stabilize();
  s.heal();
  s.tick(1);
  const beats = s.pending(ofType(MessageType.Heartbeat));
  assert.equal(beats.find((m) => m.to === 2)?.commit, 2);
  assert.equal(beats.find((m) => m.to === 3)?.commit, 1, "node 3 is only known to hold index 1");
  s.stabilize();
  assert.equal(s.commit(3), 2);
});

test("a leader counts its own entries towards commit only once the driver persisted them", () => {
  const s = RaftScenario.cluster([1]);
  const node = s.node(1);
  node.campaign();
  let rd = node.ready();
  assert.equal(rd.entries.length, 1, "the no-op is to be persisted");
  assert.equal(rd.committedEntries.length, 0, "nothing is committed before it is on disk");
  assert.equal(rd.mustSync, true);
  node.advance(rd);
  rd = node.ready();
  assert.deepEqual(rd.committedEntries.map((e) => e.index), [1]);
  node.advance(rd);
});
