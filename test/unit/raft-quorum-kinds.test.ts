// Kinds of core bugs that a seeded run finds only rarely, pinned down here so they fail at once: a vote
// granted in a term the node had already adopted must be durable before it is answered; learners never
// count in a commit or read quorum (also with several learners and an even number of voters); a read
// round's answers release only the reads queued up to that round.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfChangeType, Entry, EntryType, Message, MessageType, RawNode } from "../../src/raft";
import { newMessage } from "../../src/raft/messages";
import { raftTestConfig } from "../support/raft-test-config";
import { RaftScenario } from "../support/raft-scenario";

const config = raftTestConfig(2);

function voteRequest(from: number, term: number, index: number, logTerm: number): Message {
  const m = newMessage(MessageType.Vote, from, 2, term);
  m.index = index;
  m.logTerm = logTerm;
  return m;
}

test("a vote granted in a term the node already adopted is made durable before it is answered", () => {
  const conf = { voters: [1, 2, 3], learners: [] };
  const entry: Entry = { term: 1, index: 1, type: EntryType.Normal, data: new Uint8Array() };
  const node = new RawNode(config, { hardState: { term: 1, vote: 0, commit: 0 }, snapshot: { index: 0, term: 0, conf }, entries: [entry], applied: 0, conf }, () => 0.5);

  // Candidate 3's log is behind: refused, but its term is adopted (with no vote).
  node.step(voteRequest(3, 5, 0, 0));
  const adopted = node.ready();
  assert.equal(adopted.hardState?.term, 5);
  assert.equal(adopted.hardState?.vote, 0);
  node.advance(adopted);

  // Candidate 1 asks in the same term with an up-to-date log: granted, and the vote is in the same Ready.
  node.step(voteRequest(1, 5, 1, 1));
  const granted = node.ready();
  const resp = granted.messages.find((m) => m.type === MessageType.VoteResp && m.to === 1);
  assert.equal(resp?.reject, false);
  assert.equal(granted.hardState?.vote, 1, "the vote is part of the Ready that answers it");
  assert.equal(granted.mustSync, true, "and must be fsynced before the answer leaves");
});

function clusterWithLearners(voters: number[], learners: number[]): RaftScenario {
  const s = RaftScenario.cluster(voters);
  s.campaign(1);
  s.stabilize();
  for (const id of learners) {
    s.addNode(id, s.status(1).conf);
    assert.equal(s.proposeConfChange(1, { type: ConfChangeType.AddLearner, nodeId: id }).ok, true);
    s.stabilize();
  }
  assert.deepEqual(s.status(1).conf, { voters, learners });
  s.propose(1, "a");
  s.stabilize();
  return s;
}

function assertNoQuorumWith(s: RaftScenario, cutVoters: number[]): void {
  for (const id of cutVoters) s.cut(1, id);
  const before = s.commit(1);
  s.propose(1, "b");
  assert.equal(s.readIndex(1, "read").ok, true);
  s.stabilize();
  assert.equal(s.commit(1), before, `${s.describe()}\nlearners were counted towards commit`);
  assert.deepEqual(s.readStates(1), [], "learners were counted towards a read quorum");
}

test("three voters and two learners: the leader with the learners is no quorum", () => {
  const s = clusterWithLearners([1, 2, 3], [4, 5]);
  assertNoQuorumWith(s, [2, 3]);
});

test("four voters and two learners: two voters with the learners are no quorum", () => {
  const s = clusterWithLearners([1, 2, 3, 4], [5, 6]);
  assertNoQuorumWith(s, [3, 4]);
});

test("a read round's answers release the reads up to that round, not those queued after it", () => {
  const s = RaftScenario.cluster([1, 2, 3]);
  s.campaign(1);
  s.stabilize();
  s.propose(1, "a");
  s.stabilize();

  s.readIndex(1, "r1");
  s.deliver((m) => m.type === MessageType.Heartbeat);
  s.readIndex(1, "r2");
  // Only the answers to the first round arrive.
  s.deliver((m) => m.type === MessageType.HeartbeatResp && m.context === "r1");
  assert.deepEqual(
    s.readStates(1).map((r) => r.context),
    ["r1"],
  );
  s.stabilize();
  assert.deepEqual(
    s.readStates(1).map((r) => r.context),
    ["r1", "r2"],
  );
});
