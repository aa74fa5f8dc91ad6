// Proposals and their typed refusals: the driver must know for certain that a refused write was not taken.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ProposalErrorCode, Role } from "../../src/raft";
import { RaftScenario } from "../support/raft-scenario";

function stableCluster(options = {}): RaftScenario {
  const s = RaftScenario.cluster([1, 2, 3], options);
  s.campaign(1);
  s.stabilize();
  return s;
}

test("a proposal returns the first index and the term of its entries", () => {
  const s = stableCluster();
  assert.deepEqual(s.propose(1, "a", "b", "c"), { ok: true, index: 2, term: 1 });
  assert.deepEqual(s.propose(1, "d"), { ok: true, index: 5, term: 1 });
  s.stabilize();
  assert.deepEqual(s.applied(3), ["a", "b", "c", "d"]);
});

test("NotLeader on a follower carries the leader as a hint, and 0 when no leader is known", () => {
  const s = stableCluster();
  const r = s.propose(2, "x");
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.code, ProposalErrorCode.NotLeader);
  assert.equal(!r.ok && r.leader, 1);

  const fresh = RaftScenario.cluster([1, 2, 3]);
  const none = fresh.propose(1, "x");
  assert.equal(!none.ok && none.code, ProposalErrorCode.NotLeader);
  assert.equal(!none.ok && none.leader, 0);
  assert.equal(fresh.status(1).lastIndex, 0, "nothing was appended");
});

test("UncommittedTailFull: beyond maxUncommittedBytes of uncommitted data, proposals are refused until commits drain it", () => {
  const s = stableCluster({ maxUncommittedBytes: 10 });
  s.isolate(1);
  // An empty tail always admits one proposal, even one larger than the bound.
  assert.equal(s.propose(1, "12345678").ok, true);
  assert.equal(s.propose(1, "12").ok, true, "10 bytes: at the bound");
  const full = s.propose(1, "3");
  assert.equal(full.ok, false);
  assert.equal(!full.ok && full.code, ProposalErrorCode.UncommittedTailFull);
  assert.match(!full.ok ? full.message : "", /10 bytes \(limit 10\)/);
  const lastIndex = s.status(1).lastIndex;

  s.heal();
  s.tickAndStabilize(1);
  assert.equal(s.commit(1), lastIndex);
  assert.equal(s.propose(1, "3").ok, true, "the committed entries no longer count");
});

test("TransferInProgress while leadership moves; a refused proposal appends nothing", () => {
  const s = stableCluster();
  s.isolate(3);
  s.transferLeadership(1, 3);
  const before = s.status(1).lastIndex;
  const r = s.propose(1, "x");
  assert.equal(!r.ok && r.code, ProposalErrorCode.TransferInProgress);
  assert.equal(s.status(1).lastIndex, before);
});

test("a leader that stepped down refuses with NotLeader", () => {
  const s = stableCluster();
  s.isolate(1);
  s.tick(1, 20);
  assert.equal(s.role(1), Role.Follower);
  const r = s.propose(1, "x");
  assert.equal(!r.ok && r.code, ProposalErrorCode.NotLeader);
});

test("an empty proposal is a programming error", () => {
  const s = stableCluster();
  assert.throws(() => s.node(1).propose([]), /no entries/);
});
