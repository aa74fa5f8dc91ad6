// The core's cheap invariant checks fire on a broken state (and stay silent on every correct run: the unit
// tests and the simulation run with them on).
import assert from "node:assert/strict";
import { test } from "node:test";
import { RaftInvariantError } from "../../src/raft/invariants";
import { Progress } from "../../src/raft/progress";
import { RaftLog } from "../../src/raft/raft-log";
import { EntryType, NONE, RawNode } from "../../src/raft";
import { raftTestConfig } from "../support/raft-test-config";

test("a leader that would send a follower entries below its match breaks match < next", () => {
  const pr = new Progress(1, 8, false);
  pr.becomeReplicate();
  assert.equal(pr.maybeUpdate(10), true);
  assert.throws(() => pr.sentEntries(1, 5), RaftInvariantError);
});

test("progress keeps match < next through acknowledgements, rejections and state changes", () => {
  const pr = new Progress(6, 8, false);
  assert.equal(pr.maybeUpdate(3), true);
  assert.equal(pr.maybeDecrTo(5, 4), true);
  assert.equal(pr.next, 5);
  pr.becomeReplicate();
  pr.sentEntries(2, 5);
  assert.ok(pr.match < pr.next);
});

test("a log whose commit index passes its last index, or whose applied index passes its commit, is caught", () => {
  const entries = [1, 2, 3].map((index) => ({ term: 1, index, type: EntryType.Normal, data: new Uint8Array() }));
  const log = new RaftLog({ index: 0, term: 0, conf: { voters: [1], learners: [] } }, entries, 2, 1);
  log.checkInvariants();
  log.committed = 4;
  assert.throws(() => log.checkInvariants(), RaftInvariantError);
  log.committed = 2;
  log.applying = 3;
  assert.throws(() => log.checkInvariants(), RaftInvariantError);
});

test("a Ready whose hard state would take back a vote in its term, or move the term or commit back, is caught", () => {
  const start = (vote: number) =>
    new RawNode(
      raftTestConfig(1),
      {
        hardState: { term: 5, vote, commit: 2 },
        snapshot: { index: 0, term: 0, conf: { voters: [1, 2, 3], learners: [] } },
        entries: [1, 2, 3].map((index) => ({ term: 5, index, type: EntryType.Normal, data: new Uint8Array() })),
        applied: 0,
        conf: { voters: [1, 2, 3], learners: [] },
      },
      () => 0.5,
    );
  const internals = (node: RawNode) => (node as unknown as { raft: { vote: number; term: number; log: { committed: number } } }).raft;
  const cases: Array<[number, (raft: ReturnType<typeof internals>) => void]> = [
    [2, (raft) => (raft.vote = 3)],
    [2, (raft) => (raft.term = 4)],
    [2, (raft) => (raft.log.committed = 1)],
  ];
  for (const [vote, breakIt] of cases) {
    const node = start(vote);
    breakIt(internals(node));
    assert.throws(() => node.ready(), RaftInvariantError);
  }
  // Casting a first vote in the term is fine.
  const fresh = start(NONE);
  internals(fresh).vote = 3;
  assert.equal(fresh.ready().hardState?.vote, 3);
});
