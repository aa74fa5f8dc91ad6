// Findings the simulation made in the core (see FINDINGS.md), kept as regression tests now that they are
// fixed.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Scenario } from "../support/sim/scenario";
import { formatFailure, runSimulation } from "../support/sim/simulation";

describe("fixed findings", () => {
  test("F1: a node added knowing no members learns the cluster's membership, not just the changes", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const result = runSimulation({ seed, steps: 2000, joinersStartEmpty: true, connectionResets: false });
      assert.equal(result.failure, undefined, formatFailure(result));
    }
  });

  test("F2: a snapshot of a later term resolves the older-term proposals above it", () => {
    const s = new Scenario({ nodeCount: 3, compactEveryEntries: 2 });
    const old = s.node(1);
    s.elect(1);
    s.runUntil("every node applied node 1's term-start entry", () => [2, 3].every((id) => s.node(id).store.app.appliedIndex >= 1));
    s.act("isolate node 1", () => s.cluster.network.partition([1], [2, 3]));
    for (let k = 0; k < 4; k++) s.write(1);
    s.elect(2);
    s.write(2);
    s.write(2);
    const leader = s.node(2);
    // Node 1 proposed at indexes 2..5 in term 1; node 2's log of term 2 ends at 4, all of it compacted.
    s.runUntil("node 2 compacted its whole log", () => leader.store.snapshotIndex === 4 && leader.store.lastIndex() === 4);
    s.act("heal", () => s.cluster.network.healAll());
    s.runUntil("node 1 installed node 2's snapshot", () => old.store.snapshotTerm === leader.term);
    s.runForMs(1000);
    assert.equal(s.violation, undefined);
    assert.equal(old.pendingProposals, 0, "node 1 still waits on proposals the snapshot proved lost");
  });

  test("F3: a snapshot arriving while older committed entries are applied waits for them", () => {
    const result = runSimulation({ seed: 3786, steps: 5000, connectionResets: false });
    assert.equal(result.failure, undefined, formatFailure(result));
  });
});
