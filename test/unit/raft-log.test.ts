// The in-memory log, progress tracking and quorum arithmetic underneath the scenarios.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Inflights } from "../../src/raft/inflights";
import { Progress } from "../../src/raft/progress";
import { quorumMatchIndex, voteResult } from "../../src/raft/quorum";
import { RaftLog } from "../../src/raft/raft-log";
import { entry } from "../support/raft-scenario";

const conf = { voters: [1, 2, 3], learners: [] };

function logOf(terms: number[], commit = 0): RaftLog {
  return new RaftLog({ index: 0, term: 0, conf }, terms.map((t, k) => entry(k + 1, t)), commit, 0);
}

test("the fast back-off hint is the largest index at or below the probe whose term is at most the probe's", () => {
  const log = logOf([1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]);
  assert.deepEqual(log.findConflictByTerm(10, 6), { index: 10, term: 3 });
  assert.deepEqual(log.findConflictByTerm(10, 2), { index: 6, term: 2 });
  assert.deepEqual(log.findConflictByTerm(10, 1), { index: 3, term: 1 });
  assert.deepEqual(log.findConflictByTerm(10, 0), { index: 0, term: 0 });
  assert.deepEqual(log.findConflictByTerm(20, 9), { index: 11, term: 3 }, "clamped to the last index");
});

test("maybeAppend truncates a conflicting suffix and never touches committed entries", () => {
  const log = logOf([1, 1, 2, 2], 2);
  assert.equal(log.maybeAppend(2, 1, 0, [entry(3, 3), entry(4, 3)]), 4);
  assert.deepEqual([3, 4].map((i) => log.term(i)), [3, 3]);
  assert.equal(log.stabled, 2, "the replaced entries are unstable again");
  assert.equal(log.maybeAppend(2, 2, 0, [entry(3, 3)]), undefined, "no match at the previous index");
  assert.throws(() => log.maybeAppend(1, 1, 0, [entry(2, 5)]), /conflicts with committed/);
});

test("an append that repeats entries the log already has truncates nothing", () => {
  const log = logOf([1, 1, 1, 1]);
  assert.equal(log.maybeAppend(1, 1, 3, [entry(2, 1)]), 2);
  assert.equal(log.lastIndex(), 4);
  assert.equal(log.committed, 2, "commit stops at the last entry this message vouches for");
});

test("compaction keeps indexes and terms addressable, and shifts the array only now and then", () => {
  const terms = Array.from({ length: 5000 }, (_, k) => 1 + Math.floor(k / 1000));
  const log = logOf(terms, 5000);
  log.appliedTo(5000);
  for (let i = 100; i <= 4900; i += 100) {
    log.compact(i);
    assert.equal(log.firstIndex(), i + 1);
    assert.equal(log.term(i), terms[i - 1]);
    assert.equal(log.term(i - 1), undefined);
    assert.equal(log.slice(i + 1, i + 2)[0].index, i + 1);
    assert.equal(log.lastIndex(), 5000);
  }
  assert.equal(log.entriesFrom(100, 1 << 20), undefined, "compacted: needs a snapshot");
});

test("entriesFrom respects the byte bound but always returns one entry", () => {
  const log = new RaftLog({ index: 0, term: 0, conf }, [entry(1, 1, "aaaa"), entry(2, 1, "bbbb"), entry(3, 1, "cccccccc")], 0, 0);
  assert.deepEqual(log.entriesFrom(1, 8)?.map((e) => e.index), [1, 2]);
  assert.equal(log.lastSliceBytes, 8);
  assert.deepEqual(log.entriesFrom(3, 2)?.map((e) => e.index), [3]);
  assert.deepEqual(log.entriesFrom(4, 2), []);
});

test("inflights: a bounded window freed by acknowledgements", () => {
  const w = new Inflights(3);
  w.add(5);
  w.add(9);
  w.add(12);
  assert.equal(w.full(), true);
  assert.throws(() => w.add(13));
  w.freeLE(9);
  assert.equal(w.count, 1);
  w.add(15);
  w.add(20);
  assert.equal(w.full(), true);
  w.freeLE(100);
  assert.equal(w.count, 0);
});

test("progress: a stale rejection is ignored, a fresh one moves next down to the hint", () => {
  const pr = new Progress(11, 4, false);
  assert.equal(pr.maybeDecrTo(10, 6), true);
  assert.equal(pr.next, 7);
  assert.equal(pr.maybeDecrTo(10, 3), false, "answer to an older probe");
  pr.maybeUpdate(6);
  pr.becomeReplicate();
  assert.equal(pr.next, 7);
  pr.sentEntries(3, 9);
  assert.equal(pr.next, 10);
  assert.equal(pr.maybeDecrTo(5, 0), false, "at or below match: stale");
  assert.equal(pr.maybeDecrTo(8, 0), true);
  assert.equal(pr.next, 7);
});

test("quorum: the highest index on a majority, and vote outcomes", () => {
  const matches = new Map([
    [1, 9],
    [2, 4],
    [3, 7],
    [4, 2],
    [5, 7],
  ]);
  assert.equal(quorumMatchIndex([1, 2, 3, 4, 5], (id) => matches.get(id) ?? 0, []), 7);
  assert.equal(quorumMatchIndex([1, 2, 4], (id) => matches.get(id) ?? 0, []), 4);
  assert.equal(voteResult([1, 2, 3], new Map([[1, true]])), "pending");
  assert.equal(voteResult([1, 2, 3], new Map([[1, true], [2, true]])), "won");
  assert.equal(voteResult([1, 2, 3], new Map([[1, true], [2, false], [3, false]])), "lost");
});
