// Findings the simulation made in the core (see FINDINGS.md), kept as regression tests now that they are
// fixed.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Scenario } from "../support/sim/scenario";
import { formatFailure, runSimulation } from "../support/sim/simulation";

describe("fixed findings", () => {
  test("F1: a node added knowing no members learns the cluster's membership, not just the changes", async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const result = await runSimulation({ seed, steps: 2000, joinersStartEmpty: true, connectionResets: false });
      assert.equal(result.failure, undefined, formatFailure(result));
    }
  });

  test("F2: a snapshot of a later term resolves the older-term proposals above it", async () => {
    const s = new Scenario({ nodeCount: 3, compactEveryEntries: 2 });
    const old = s.node(1);
    await s.elect(1);
    await s.runUntil("every node applied node 1's term-start entry", () => [2, 3].every((id) => s.node(id).store.app.appliedIndex >= 1));
    await s.act("isolate node 1", () => s.cluster.network.partition([1], [2, 3]));
    for (let k = 0; k < 4; k++) await s.write(1);
    await s.elect(2);
    await s.write(2);
    await s.write(2);
    const leader = s.node(2);
    await s.runUntil("node 2 applied its writes", () => leader.store.app.appliedIndex === 4);
    // The replica compacts after a synced write: one more write lets it compact what it applied.
    await s.write(2);
    // Node 1 proposed at indexes 2..5 in term 1; node 2's log of term 2 is compacted through 4.
    await s.runUntil("node 2 compacted its log past node 1's entries", () => leader.store.snapshotIndex === 4 && leader.store.snapshotTerm === leader.term);
    await s.act("heal", () => s.cluster.network.healAll());
    await s.runUntil("node 1 installed node 2's snapshot", () => old.store.snapshotTerm === leader.term);
    await s.runForMs(1000);
    assert.equal(s.violation, undefined);
    assert.equal(old.pendingProposals, 0, "node 1 still waits on proposals the snapshot proved lost");
  });

  test("F3: a snapshot arriving while older committed entries are applied waits for them", async () => {
    const result = await runSimulation({ seed: 3786, steps: 5000, connectionResets: false });
    assert.equal(result.failure, undefined, formatFailure(result));
  });

  test("F8: a grant is charged to the copy of the request it answers, not to a later duplicate", async () => {
    const result = await runSimulation({ seed: 3031, steps: 5000 });
    assert.equal(result.failure, undefined, formatFailure(result));
  });

  test("F9: a node that installed a snapshot sends that one, not one it captured before", async () => {
    for (const seed of [5073, 6432]) {
      const result = await runSimulation({ seed, steps: 5000 });
      assert.equal(result.failure, undefined, formatFailure(result));
    }
  });

  test("F10: a membership change below an installed snapshot has an unknown outcome, not a lost one", async () => {
    const result = await runSimulation({ seed: 9947, steps: 5000 });
    assert.equal(result.failure, undefined, formatFailure(result));
  });

  for (const [name, seeds] of [
    ["F5: a snapshot captured after a restart carries the applied entry's term", [32, 44, 60]],
    ["F6: a leader restarted at its compaction point can send a snapshot", [343]],
    ["F7: a leadership transfer is stepped after the ticks queued before it", [26, 78]],
  ] as const) {
    test(name, async () => {
      for (const seed of seeds) {
        const result = await runSimulation({ seed, steps: 2000, connectionResets: false });
        assert.equal(result.failure, undefined, formatFailure(result));
      }
    });
  }
});
