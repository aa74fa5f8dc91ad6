// A pre-vote granted for an earlier pre-election must not count towards a later one: the node would
// otherwise start a term without a quorum's pre-votes, and a node that is mostly cut off could raise its
// term and disturb the group when it returns (found by the simulation's term-inflation checker).
import assert from "node:assert/strict";
import { test } from "node:test";
import { Message, MessageType, RaftConfig, RawNode, Role } from "../../src/raft";
import { newMessage } from "../../src/raft/messages";

const config: RaftConfig = {
  id: 1,
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: false,
  maxMsgBytes: 1024 * 1024,
  maxInflightMsgs: 256,
  maxUncommittedBytes: 1024 * 1024,
  learnerCatchUpEntries: 10,
};

function preVoteGrant(from: number, term: number): Message {
  return newMessage(MessageType.PreVoteResp, from, 1, term);
}

test("a pre-vote grant left over from the pre-election of an earlier term is not counted", () => {
  const conf = { voters: [1, 2, 3, 4, 5], learners: [] };
  const node = new RawNode(config, { hardState: { term: 2, vote: 0, commit: 0 }, snapshot: { index: 0, term: 0, conf }, entries: [], applied: 0, conf }, () => 0);
  node.campaign();
  assert.equal(node.basicStatus().role, Role.PreCandidate);
  assert.equal(node.basicStatus().term, 2);

  // Granted for term 2 in a pre-election this node ran while it was at term 1: stale.
  node.step(preVoteGrant(4, 2));
  node.step(preVoteGrant(5, 3));
  assert.equal(node.basicStatus().role, Role.PreCandidate, "one real grant and its own pre-vote are no quorum of five");
  assert.equal(node.basicStatus().term, 2);

  node.step(preVoteGrant(3, 3));
  assert.equal(node.basicStatus().role, Role.Candidate, "a quorum of grants for term 3 starts the election");
  assert.equal(node.basicStatus().term, 3);
});
