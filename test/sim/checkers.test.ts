// Each checker on hand-made histories: it stays quiet on a correct one and names the bug it guards
// against on a broken one.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Role } from "../../src/raft";
import {
  committedDurable,
  electionSafety,
  leaderCompleteness,
  linearizableReads,
  logMatching,
  proposalOutcomes,
  stateMachineSafety,
} from "../support/sim/checkers";
import { leaderStability, termStability, transferFreeze } from "../support/sim/availability-checkers";
import { FabricatedLog, fabricatedCluster, fabricatedNode } from "../support/sim/fabricated";
import { History } from "../support/sim/history";

const threeVoters = { voters: [1, 2, 3], learners: [] };
const noNodes = fabricatedCluster([]);

describe("election safety", () => {
  test("two leaders in one term are caught", () => {
    const h = new History(threeVoters);
    h.beginStep(1);
    h.recordLeader(1, 3);
    assert.equal(electionSafety(noNodes, h), undefined);
    h.beginStep(2);
    h.recordLeader(2, 3);
    assert.match(electionSafety(noNodes, h)?.message ?? "", /term 3 has two leaders: nodes 1 and 2/);
  });

  test("one leader per term, term after term, is fine", () => {
    const h = new History(threeVoters);
    h.recordLeader(1, 3);
    h.recordLeader(2, 4);
    h.recordLeader(1, 5);
    assert.equal(electionSafety(noNodes, h), undefined);
  });
});

describe("log matching", () => {
  test("two different entries at one index and term are caught", () => {
    const h = new History(threeVoters);
    h.recordPersisted(1, [{ index: 5, term: 2, key: "2:n:w1", prevTerm: 2 }]);
    h.beginStep(2);
    h.recordPersisted(2, [{ index: 5, term: 2, key: "2:n:w9", prevTerm: 2 }]);
    assert.match(logMatching(noNodes, h)?.message ?? "", /entry \(index 5, term 2\) differs/);
  });

  test("a matching entry over a different prefix is caught", () => {
    const h = new History(threeVoters);
    h.recordPersisted(1, [{ index: 5, term: 2, key: "2:n:w1", prevTerm: 2 }]);
    h.beginStep(2);
    h.recordPersisted(2, [{ index: 5, term: 2, key: "2:n:w1", prevTerm: 1 }]);
    assert.match(logMatching(noNodes, h)?.message ?? "", /logs differ before a matching entry/);
  });

  test("the same entry replicated, and a conflicting entry of another term, are fine", () => {
    const h = new History(threeVoters);
    h.recordPersisted(1, [{ index: 5, term: 2, key: "2:n:w1", prevTerm: 2 }]);
    h.recordPersisted(2, [{ index: 5, term: 2, key: "2:n:w1", prevTerm: 2 }]);
    h.recordPersisted(3, [{ index: 5, term: 3, key: "3:n:w2", prevTerm: 2 }]);
    assert.equal(logMatching(noNodes, h), undefined);
  });
});

describe("leader completeness", () => {
  function historyWithCommitInTerm2(): History {
    const h = new History(threeVoters);
    h.recordCommitted(1, 2, [{ index: 4, term: 2, key: "2:n:w4" }]);
    return h;
  }

  test("a leader of a later term without an earlier term's committed entry is caught (Figure 8)", () => {
    const h = historyWithCommitInTerm2();
    const overwritten = new FabricatedLog([1, 1, 2, 3]);
    const cluster = fabricatedCluster([fabricatedNode(3, overwritten, Role.Leader, 3)]);
    assert.match(leaderCompleteness(cluster, h)?.message ?? "", /leader 3 of term 3 lacks entry \(index 4, term 2\)/);
  });

  test("a leader holding it, in its log or under its snapshot, is fine", () => {
    const h = historyWithCommitInTerm2();
    const holding = fabricatedNode(3, new FabricatedLog([1, 1, 2, 2, 3]), Role.Leader, 3);
    const snapshotted = fabricatedNode(2, new FabricatedLog([3], 0, 5, 2), Role.Leader, 4);
    assert.equal(leaderCompleteness(fabricatedCluster([holding, snapshotted]), h), undefined);
  });

  test("a stale leader of the committing term itself is not required to hold later commits", () => {
    const h = historyWithCommitInTerm2();
    const stale = fabricatedNode(1, new FabricatedLog([1, 1, 2]), Role.Leader, 2);
    assert.equal(leaderCompleteness(fabricatedCluster([stale]), h), undefined);
  });
});

describe("state machine safety", () => {
  test("two nodes applying different entries at one index are caught", () => {
    const h = new History(threeVoters);
    h.recordApplied({ node: 1, index: 3, key: "2:n:w1", digest: 11, prevApplied: 2 });
    h.beginStep(2);
    h.recordApplied({ node: 2, index: 3, key: "3:n:w7", digest: 12, prevApplied: 2 });
    assert.match(stateMachineSafety(noNodes, h)?.message ?? "", /index 3 applied as 2:n:w1 on node 1 but as 3:n:w7 on node 2/);
  });

  test("two nodes committing different entries at one index are caught", () => {
    const h = new History(threeVoters);
    h.recordCommitted(1, 2, [{ index: 3, term: 2, key: "2:n:w1" }]);
    h.beginStep(2);
    h.recordCommitted(2, 3, [{ index: 3, term: 3, key: "3:n:w7" }]);
    assert.match(stateMachineSafety(noNodes, h)?.message ?? "", /index 3 committed as 2:n:w1 on node 1 but as 3:n:w7/);
  });

  test("skipping an index is caught", () => {
    const h = new History(threeVoters);
    h.recordApplied({ node: 1, index: 5, key: "2:n:w1", digest: 11, prevApplied: 3 });
    assert.match(stateMachineSafety(noNodes, h)?.message ?? "", /node 1 applied index 5 right after 3/);
  });

  test("a snapshot that matches no applied state is caught", () => {
    const h = new History(threeVoters);
    h.recordApplied({ node: 1, index: 3, key: "2:n:w1", digest: 11, prevApplied: 2 });
    h.beginStep(2);
    h.recordSnapshotInstalled({ node: 2, index: 3, term: 2, digest: 99 });
    assert.match(stateMachineSafety(noNodes, h)?.message ?? "", /node 2 installed a snapshot at \(index 3, term 2\)/);
  });

  test("the same entries applied everywhere, and matching snapshots (the bootstrap one too), are fine", () => {
    const h = new History(threeVoters);
    h.recordApplied({ node: 1, index: 3, key: "2:n:w1", digest: 11, prevApplied: 2 });
    h.recordApplied({ node: 2, index: 3, key: "2:n:w1", digest: 11, prevApplied: 2 });
    h.recordSnapshotInstalled({ node: 3, index: 3, term: 2, digest: 11 });
    h.recordSnapshotInstalled({ node: 4, index: 0, term: 0, digest: 0 });
    assert.equal(stateMachineSafety(noNodes, h), undefined);
  });
});

describe("committed entries are durable", () => {
  function historyWithCommit(): History {
    const h = new History(threeVoters);
    h.recordCommitted(1, 2, [{ index: 3, term: 2, key: "2:n:w1" }]);
    return h;
  }

  test("a committed entry left on a single disk of three is caught (acknowledged before persisting)", () => {
    const h = historyWithCommit();
    const cluster = fabricatedCluster([
      fabricatedNode(1, new FabricatedLog([1, 2, 2], 3)),
      fabricatedNode(2, new FabricatedLog([1, 2])),
      fabricatedNode(3, new FabricatedLog([1])),
    ]);
    assert.match(committedDurable(cluster, h)?.message ?? "", /durable only on \[1\] of voters \[1, 2, 3\]/);
  });

  test("a commit index beyond the durable log is caught", () => {
    const h = new History(threeVoters);
    const cluster = fabricatedCluster([fabricatedNode(1, new FabricatedLog([1, 2], 3))]);
    assert.match(committedDurable(cluster, h)?.message ?? "", /commit 3 beyond its durable log/);
  });

  test("a majority holding it, a crashed node or a snapshot included, is fine", () => {
    const h = historyWithCommit();
    const cluster = fabricatedCluster([
      fabricatedNode(1, new FabricatedLog([1, 2, 2], 3), Role.Follower, 2, false),
      fabricatedNode(2, new FabricatedLog([], 3, 4, 2)),
      fabricatedNode(3, new FabricatedLog([1])),
    ]);
    assert.equal(committedDurable(cluster, h), undefined);
  });
});

describe("linearizable reads", () => {
  test("a read that misses a write acknowledged before it began is caught (stale read)", () => {
    const h = new History(threeVoters);
    h.recordAck(7, 1, 10);
    h.beginStep(2);
    h.recordReadStart(1, 2);
    h.beginStep(3);
    h.recordReadDone(1, 2, 9);
    assert.match(linearizableReads(noNodes, h)?.message ?? "", /read 1 on node 2 answered from applied index 9, but write 7 at index 10/);
  });

  test("a read that sees it, or began before the write was acknowledged, is fine", () => {
    const h = new History(threeVoters);
    h.recordReadStart(1, 2);
    h.recordAck(7, 1, 10);
    h.recordReadStart(2, 3);
    h.recordReadDone(1, 2, 9);
    h.recordReadDone(2, 3, 10);
    assert.equal(linearizableReads(noNodes, h), undefined);
  });
});

describe("proposal outcomes", () => {
  test("a write reported lost and applied later is caught", () => {
    const h = new History(threeVoters);
    h.recordLost(7);
    assert.equal(proposalOutcomes(noNodes, h), undefined);
    h.beginStep(2);
    h.recordApplied({ node: 2, index: 4, key: "3:n:w7", digest: 1, prevApplied: 3, writeId: 7 });
    assert.match(proposalOutcomes(noNodes, h)?.message ?? "", /node 2 applied write 7 at index 4, which was reported lost/);
  });

  test("a write applied and reported lost afterwards is caught", () => {
    const h = new History(threeVoters);
    h.recordApplied({ node: 2, index: 4, key: "3:n:w7", digest: 1, prevApplied: 3, writeId: 7 });
    h.beginStep(2);
    h.recordLost(7);
    assert.match(proposalOutcomes(noNodes, h)?.message ?? "", /write 7 was reported lost to its client but has been applied/);
  });

  test("lost writes that never apply, and applied writes never reported lost, are fine", () => {
    const h = new History(threeVoters);
    h.recordLost(7);
    h.recordApplied({ node: 2, index: 4, key: "3:n:w8", digest: 1, prevApplied: 3, writeId: 8 });
    assert.equal(proposalOutcomes(noNodes, h), undefined);
  });
});

describe("availability", () => {
  const raft = { preVote: true, checkQuorum: true, electionTicks: 10 };
  const cluster = { ...noNodes, raft };

  test("leader stability: a (pre-)vote granted within a lease is caught, unless a TimeoutNow started the campaign", () => {
    const h = new History(threeVoters);
    h.beginStep(1);
    h.recordLeasedGrant({ node: 2, candidate: 3, kind: "pre-vote", term: 5, leader: 1, claimsTransfer: false });
    assert.match(leaderStability(cluster, h)?.message ?? "", /node 2 granted a pre-vote for term 5 to node 3 while in the lease of leader 1/);
    assert.equal(leaderStability({ ...noNodes, raft: { ...raft, checkQuorum: false } }, h), undefined, "no lease without CheckQuorum");
    h.beginStep(2);
    h.recordTermStart({ node: 3, term: 5, cause: "transfer", preVoteGrants: [], voters: [1, 2, 3] });
    h.recordLeasedGrant({ node: 2, candidate: 3, kind: "vote", term: 5, leader: 1, claimsTransfer: true });
    assert.equal(leaderStability(cluster, h), undefined);
  });

  test("term inflation: a term started without a quorum of pre-votes is caught", () => {
    const h = new History(threeVoters);
    h.beginStep(1);
    h.recordTermStart({ node: 3, term: 5, cause: "election", preVoteGrants: [2], voters: [1, 2, 3] });
    assert.equal(termStability(cluster, h), undefined);
    h.beginStep(2);
    h.recordTermStart({ node: 3, term: 6, cause: "election", preVoteGrants: [], voters: [1, 2, 3, 4] });
    assert.match(termStability(cluster, h)?.message ?? "", /node 3 started term 6 with pre-votes from only \[\]/);
  });

  test("transfer freeze: a proposal within an election timeout of an accepted transfer is caught", () => {
    const h = new History(threeVoters);
    const proposal = { node: 1, term: 4, index: 9, transferee: 2, ticksSinceTransfer: 3, transfereeIsVoter: true };
    h.beginStep(1);
    h.recordProposalDuringTransfer({ ...proposal, ticksSinceTransfer: 10 });
    h.recordProposalDuringTransfer({ ...proposal, transfereeIsVoter: false });
    assert.equal(transferFreeze(cluster, h), undefined, "the transfer was abandoned, or its target left");
    h.recordProposalDuringTransfer(proposal);
    assert.match(transferFreeze(cluster, h)?.message ?? "", /leader 1 of term 4 accepted a proposal at index 9 3 ticks after/);
  });
});
