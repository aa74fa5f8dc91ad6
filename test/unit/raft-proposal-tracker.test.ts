// The driver's proposal tracker: committed when the entry at its index has its term, lost once a higher
// term is committed at or below its index.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ProposalTracker } from "../../src/raft";
import { entry } from "../support/raft-scenario";

test("a proposal is committed when the committed entry at its index has its term", () => {
  const t = new ProposalTracker<string>();
  t.track(2, 1, "a");
  t.track(3, 1, "b");
  assert.deepEqual(t.onCommitted([entry(1, 1), entry(2, 1)]), [{ token: "a", outcome: "committed" }]);
  assert.deepEqual(t.onCommitted([entry(3, 1)]), [{ token: "b", outcome: "committed" }]);
  assert.equal(t.size, 0);
});

test("a proposal is lost when another term's entry is committed at its index", () => {
  const t = new ProposalTracker<string>();
  t.track(2, 1, "a");
  assert.deepEqual(t.onCommitted([entry(2, 2)]), [{ token: "a", outcome: "lost" }]);
});

test("a proposal beyond the commit index is lost once a higher term is committed below it", () => {
  const t = new ProposalTracker<string>();
  t.track(5, 1, "far");
  t.track(6, 3, "newer");
  // Entry 3 of term 2 is committed: the term-1 entry at 5 can no longer commit (terms only grow).
  assert.deepEqual(t.onCommitted([entry(3, 2)]), [{ token: "far", outcome: "lost" }]);
  assert.equal(t.size, 1, "the term-3 proposal is still open");
});

test("proposals tracked out of index order (a re-elected leader) resolve correctly", () => {
  const t = new ProposalTracker<string>();
  t.track(5, 1, "old");
  t.track(3, 4, "new");
  const resolved = t.onCommitted([entry(3, 4), entry(4, 4), entry(5, 4)]);
  assert.deepEqual(resolved, [
    { token: "new", outcome: "committed" },
    { token: "old", outcome: "lost" },
  ]);
});

test("proposals under an installed snapshot have an unknown outcome", () => {
  const t = new ProposalTracker<string>();
  t.track(2, 1, "a");
  t.track(9, 1, "b");
  assert.deepEqual(t.abandonThrough(5), ["a"]);
  assert.equal(t.size, 1);
});

test("a snapshot of a later term resolves the older-term proposals above it", () => {
  const t = new ProposalTracker<string>();
  t.track(3, 1, "under");
  t.track(4, 2, "at");
  t.track(5, 1, "above, older term");
  t.track(6, 2, "above, same term");
  const { resolved, unknown } = t.onSnapshot(4, 2);
  assert.deepEqual(unknown, ["under"]);
  assert.deepEqual(resolved, [
    { token: "at", outcome: "committed" },
    { token: "above, older term", outcome: "lost" },
  ]);
  assert.equal(t.size, 1);
  assert.deepEqual(t.onCommitted([entry(5, 2), entry(6, 2)]), [{ token: "above, same term", outcome: "committed" }]);
});
