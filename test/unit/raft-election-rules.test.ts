// Election and message rules of one node, each pinned down on a single RawNode: who may campaign, one vote
// per term, what a loss does, which messages a node ignores or answers. Written for mutants that survived
// the run of test/sim/MUTATION.md (the seeded run reaches these paths only by chance).
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfChangeType, encodeConfChange, Entry, EntryType, Message, MessageType, NodeId, RaftConfig, RawNode, Role } from "../../src/raft";
import { newMessage } from "../../src/raft/messages";

const base: RaftConfig = {
  id: 1,
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: false,
  checkQuorum: false,
  maxMsgBytes: 1024 * 1024,
  maxInflightMsgs: 256,
  maxUncommittedBytes: 1024 * 1024,
  learnerCatchUpEntries: 10,
};

function node(id: NodeId, voters: NodeId[], options: { learners?: NodeId[]; term?: number; entries?: Entry[]; commit?: number; cfg?: Partial<RaftConfig> } = {}): RawNode {
  const conf = { voters, learners: options.learners ?? [] };
  const entries = options.entries ?? [];
  return new RawNode(
    { ...base, ...options.cfg, id },
    { hardState: { term: options.term ?? 1, vote: 0, commit: options.commit ?? 0 }, snapshot: { index: 0, term: 0, conf }, entries, applied: 0, conf },
    () => 0,
  );
}

/** Drains the node's Ready and returns the messages it would send. */
function sent(n: RawNode): Message[] {
  if (!n.hasReady()) return [];
  const rd = n.ready();
  n.advance(rd);
  return rd.messages;
}

function voteRequest(type: MessageType, from: NodeId, to: NodeId, term: number): Message {
  return newMessage(type, from, to, term);
}

test("a learner never campaigns, however long it hears nothing", () => {
  const n = node(3, [1, 2], { learners: [3] });
  for (let k = 0; k < 50; k++) n.tick();
  n.campaign();
  assert.deepEqual(sent(n).filter((m) => m.type === MessageType.Vote || m.type === MessageType.PreVote), []);
  assert.equal(n.basicStatus().role, Role.Follower);
});

test("a leader asked to campaign stays leader of its term", () => {
  const n = node(1, [1]);
  n.campaign();
  assert.equal(n.basicStatus().role, Role.Leader);
  const term = n.basicStatus().term;
  n.campaign();
  assert.equal(n.basicStatus().role, Role.Leader);
  assert.equal(n.basicStatus().term, term);
});

test("a node with a committed membership change it has not applied does not campaign", () => {
  const cc: Entry = { term: 1, index: 1, type: EntryType.ConfChange, data: encodeConfChange({ type: ConfChangeType.AddVoter, nodeId: 4 }) };
  const n = node(1, [1, 2, 3], { entries: [cc], commit: 1 });
  n.campaign();
  assert.equal(n.basicStatus().role, Role.Follower);
  assert.equal(n.basicStatus().term, 1);
});

test("a candidate that a majority refused becomes a follower", () => {
  const n = node(1, [1, 2, 3]);
  n.campaign();
  sent(n);
  assert.equal(n.basicStatus().role, Role.Candidate);
  const term = n.basicStatus().term;
  for (const from of [2, 3]) {
    const resp = newMessage(MessageType.VoteResp, from, 1, term);
    resp.reject = true;
    n.step(resp);
  }
  assert.equal(n.basicStatus().role, Role.Follower);
});

test("one vote per term: a second candidate of the term is refused, the first one's retry granted again", () => {
  const n = node(1, [1, 2, 3]);
  n.step(voteRequest(MessageType.Vote, 2, 1, 5));
  assert.equal(sent(n).find((m) => m.type === MessageType.VoteResp)?.reject, false);
  n.step(voteRequest(MessageType.Vote, 3, 1, 5));
  assert.equal(sent(n).find((m) => m.type === MessageType.VoteResp)?.reject, true, "node 3 asks in the same term");
  n.step(voteRequest(MessageType.Vote, 2, 1, 5));
  assert.equal(sent(n).find((m) => m.type === MessageType.VoteResp)?.reject, false, "a duplicate of node 2's request");
  n.step(voteRequest(MessageType.PreVote, 3, 1, 5));
  assert.equal(sent(n).find((m) => m.type === MessageType.PreVoteResp)?.reject, true, "a pre-vote for a term it already voted in");
  n.step(voteRequest(MessageType.PreVote, 3, 1, 6));
  assert.equal(sent(n).find((m) => m.type === MessageType.PreVoteResp)?.reject, false, "a pre-vote for the next term promises nothing");
  assert.equal(n.basicStatus().term, 5);
});

test("a follower that knows its leader refuses a vote in the leader's term", () => {
  const n = node(1, [1, 2, 3], { term: 5 });
  n.step(newMessage(MessageType.Heartbeat, 2, 1, 5));
  sent(n);
  n.step(voteRequest(MessageType.Vote, 3, 1, 5));
  assert.equal(sent(n).find((m) => m.type === MessageType.VoteResp)?.reject, true);
});

test("messages addressed to another node, from itself or from nobody are ignored", () => {
  const n = node(1, [1, 2, 3]);
  n.step(newMessage(MessageType.Heartbeat, 2, 3, 7));
  n.step(newMessage(MessageType.Heartbeat, 1, 1, 7));
  n.step(newMessage(MessageType.Heartbeat, 0, 1, 7));
  assert.equal(n.basicStatus().term, 1);
  assert.deepEqual(sent(n), []);
});

test("with PreVote or CheckQuorum a stale leader is told the newer term; a stale pre-vote is refused", () => {
  for (const cfg of [{ preVote: true }, { checkQuorum: true }]) {
    const n = node(1, [1, 2, 3], { term: 5, cfg });
    n.step(newMessage(MessageType.Heartbeat, 2, 1, 3));
    const resp = sent(n);
    assert.deepEqual(resp.map((m) => [m.type, m.to, m.term]), [[MessageType.AppResp, 2, 5]]);
    n.step(voteRequest(MessageType.PreVote, 3, 1, 4));
    const refusal = sent(n);
    assert.deepEqual(refusal.map((m) => [m.type, m.to, m.term, m.reject]), [[MessageType.PreVoteResp, 3, 5, true]]);
  }
  const plain = node(1, [1, 2, 3], { term: 5 });
  plain.step(newMessage(MessageType.Heartbeat, 2, 1, 3));
  assert.deepEqual(sent(plain), [], "without either, a stale message is dropped");
});

test("a follower forwards a read to its leader, and refuses one when it knows no leader", () => {
  const n = node(1, [1, 2, 3], { term: 2 });
  assert.equal(n.readIndex("r1").ok, false);
  n.step(newMessage(MessageType.Heartbeat, 2, 1, 2));
  sent(n);
  assert.equal(n.readIndex("r2").ok, true);
  const forwarded = sent(n).filter((m) => m.type === MessageType.ReadIndex);
  assert.deepEqual(forwarded.map((m) => [m.to, m.context]), [[2, "r2"]]);
  const fromPeer = newMessage(MessageType.ReadIndex, 3, 1, 2);
  fromPeer.context = "r3";
  n.step(fromPeer);
  assert.deepEqual(sent(n).map((m) => [m.type, m.from, m.to, m.context]), [[MessageType.ReadIndex, 3, 2, "r3"]]);
  const answer = newMessage(MessageType.ReadIndexResp, 2, 1, 2);
  n.step(answer);
  assert.equal(n.hasReady(), false, "an answer without a context serves no read");
});
