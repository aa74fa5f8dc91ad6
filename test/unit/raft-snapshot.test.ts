// Log compaction and snapshots (Raft §7), and restart from persisted state.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MessageType, Role } from "../../src/raft";
import { ofType, RaftScenario } from "../support/raft-scenario";

test("compaction drops applied entries but keeps the term of the last one", () => {
  const s = RaftScenario.cluster([1, 2, 3]);
  s.campaign(1);
  s.stabilize();
  s.propose(1, "a", "b", "c");
  s.stabilize();
  s.compact(1, 3);
  const st = s.status(1);
  assert.equal(st.firstIndex, 4);
  assert.equal(st.lastIndex, 4);
  assert.throws(() => s.node(1).compact(5), /beyond applied/);
  // Replication continues from the compacted log.
  s.propose(1, "d");
  s.stabilize();
  assert.deepEqual(s.applied(2), ["a", "b", "c", "d"]);
});

test("a follower behind the compacted log catches up from a snapshot", () => {
  const s = RaftScenario.cluster([1, 2, 3]);
  s.campaign(1);
  s.stabilize();
  s.isolate(3);
  s.propose(1, "a", "b", "c", "d");
  s.stabilize();
  s.compact(1, 4);
  s.compact(2, 4);
  s.heal();

  // The heartbeat answer shows node 3 lagging; what it lacks is gone, so it gets a snapshot.
  s.tick(1);
  const snapshots: number[] = [];
  for (let round = 0; round < 20 && s.pending().length > 0; round++) {
    snapshots.push(...s.pending(ofType(MessageType.Snap)).map((m) => m.snapshot?.index ?? -1));
    s.deliver();
  }
  assert.deepEqual(snapshots, [4]);
  assert.deepEqual(s.applied(3), ["a", "b", "c", "d"], "installed from the snapshot's data");
  s.propose(1, "e");
  s.stabilize();

  assert.deepEqual(s.applied(3), ["a", "b", "c", "d", "e"], s.describe());
  assert.equal(s.status(3).firstIndex, 5, "node 3's log starts after the snapshot");
  assert.equal(s.commit(3), s.commit(1));
  const progress3 = s.status(1).progress.find((p) => p.id === 3);
  assert.equal(progress3?.state, "replicate");
  assert.equal(progress3?.match, s.status(1).lastIndex);
});

test("a follower sent a snapshot is in snapshot state until it is reported or the follower catches up", () => {
  const s = RaftScenario.cluster([1, 2, 3]);
  s.campaign(1);
  s.stabilize();
  s.isolate(3);
  s.propose(1, "a", "b");
  s.stabilize();
  s.compact(1, 3);
  s.heal();
  s.tick(1);
  s.deliver(); // heartbeat
  s.deliver(); // heartbeat answer: the leader probes at its last index
  s.deliver(); // the probe is rejected with a hint below the compacted log
  s.deliver(); // the rejection reaches the leader, which sends a Snap
  assert.equal(s.pending(ofType(MessageType.Snap)).length, 1);
  assert.equal(s.status(1).progress.find((p) => p.id === 3)?.state, "snapshot");
  // Lost in transit: the transport reports failure and the leader probes again later.
  s.drop(ofType(MessageType.Snap));
  s.node(1).reportSnapshot(3, false);
  assert.equal(s.status(1).progress.find((p) => p.id === 3)?.state, "probe");
  s.tick(1);
  s.stabilize();
  s.tick(1);
  s.stabilize();
  assert.deepEqual(s.applied(3), ["a", "b"]);
});

test("restart: a node resumes as a follower with its term, vote, log and commit, and re-applies what it had not", () => {
  const s = RaftScenario.cluster([1, 2, 3]);
  s.campaign(1);
  s.stabilize();
  s.propose(1, "a", "b", "c");
  s.stabilize();
  const before = s.status(2);

  // Node 2's state machine had made only entry 2 durable when it crashed.
  s.restart(2, 2);
  const after = s.status(2);
  assert.equal(after.role, Role.Follower);
  assert.equal(after.term, before.term);
  assert.equal(after.commit, before.commit);
  assert.equal(after.lastIndex, before.lastIndex);
  assert.equal(s.logTerms(2), "1 1 1 1");
  // Entries 3 and 4 were committed but not applied: the restart re-delivered them.
  assert.deepEqual(s.applied(2), ["a", "b", "c"]);
  assert.equal(after.applied, 4);

  // The whole cluster restarts: nothing committed is lost, and a new election proceeds from the logs.
  s.restart(1);
  s.restart(3);
  s.campaign(3);
  s.stabilize();
  assert.equal(s.role(3), Role.Leader, s.describe());
  assert.equal(s.term(3), 2);
  s.propose(3, "d");
  s.stabilize();
  assert.deepEqual(s.applied(1), ["a", "b", "c", "d"]);
});

test("restart: a vote survives a crash, so a node still votes only once in its term", () => {
  const s = RaftScenario.cluster([1, 2, 3], { preVote: false, checkQuorum: false });
  s.campaign(1);
  s.campaign(3);
  s.deliver((m) => m.type === MessageType.Vote && m.from === 1 && m.to === 2);
  s.restart(2);
  s.deliver((m) => m.type === MessageType.Vote && m.from === 3 && m.to === 2);
  const answer = s.pending((m) => m.type === MessageType.VoteResp && m.from === 2 && m.to === 3);
  assert.equal(answer.length, 1);
  assert.equal(answer[0].reject, true);
});

test("restart after compaction: the node rebuilds from its snapshot and the entries after it", () => {
  const s = RaftScenario.cluster([1, 2, 3]);
  s.campaign(1);
  s.stabilize();
  s.propose(1, "a", "b", "c");
  s.stabilize();
  s.compact(2, 3);
  s.restart(2);
  assert.equal(s.status(2).firstIndex, 4);
  assert.equal(s.status(2).lastIndex, 4);
  assert.deepEqual(s.applied(2), ["a", "b", "c"]);
  s.propose(1, "d");
  s.stabilize();
  assert.deepEqual(s.applied(2), ["a", "b", "c", "d"]);
});

test("a follower that lost its disk is probed from scratch and catches up from a snapshot", () => {
  const s = RaftScenario.cluster([1, 2, 3]);
  s.campaign(1);
  s.stabilize();
  s.propose(1, "a", "b", "c");
  s.stabilize();
  s.compact(1, s.status(1).applied);
  s.wipe(3, { voters: [1, 2, 3], learners: [] });
  assert.equal(s.status(3).lastIndex, 0);

  s.propose(1, "d");
  s.tickAndStabilize(3);
  assert.deepEqual(s.applied(3), ["a", "b", "c", "d"], s.describe());
  assert.equal(s.status(1).progress.find((p) => p.id === 3)?.state, "replicate");
});

test("a member back on an empty directory, knowing no members, learns the membership from the log-start snapshot", () => {
  // The cluster's bootstrap membership lives only in the index-0 snapshot: the entries after it carry no
  // conf change, so a node that took them without the snapshot would know no voters at all.
  const s = RaftScenario.cluster([1, 2, 3]);
  s.campaign(1);
  s.stabilize();
  s.propose(1, "a", "b");
  s.stabilize();
  s.wipe(3, { voters: [], learners: [] });
  s.propose(1, "c");
  s.tickAndStabilize(3);
  assert.deepEqual(s.applied(3), ["a", "b", "c"], s.describe());
  assert.deepEqual(s.status(3).conf, { voters: [1, 2, 3], learners: [] });
});
