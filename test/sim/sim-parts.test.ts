// The simulation's own parts, on their own: the seeded generator replays, the clock orders events, the
// network honours cuts, the simulated disk keeps exactly what a real one would.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { EntryType, MessageType, Ready } from "../../src/raft";
import { encodeWrite } from "../support/sim/app-state";
import { SimNetwork } from "../support/sim/network";
import { Prng } from "../support/sim/prng";
import { Scheduler } from "../support/sim/scheduler";
import { runSimulation } from "../support/sim/simulation";
import { SimStore } from "../support/sim/store";

const conf = { voters: [1, 2, 3], learners: [] };

function entry(index: number, term: number) {
  return { index, term, type: EntryType.Normal, data: encodeWrite(index) };
}

function readyWith(fields: Partial<Ready>): Ready {
  return { entries: [], messages: [], committedEntries: [], readStates: [], mustSync: true, ...fields };
}

describe("prng", () => {
  test("one seed, one sequence", () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const seqA = Array.from({ length: 5 }, () => a.next());
    assert.deepEqual(seqA, Array.from({ length: 5 }, () => b.next()));
    assert.notDeepEqual(seqA, Array.from({ length: 5 }, () => c.next()));
    for (const x of seqA) assert.ok(x >= 0 && x < 1);
  });
});

describe("scheduler", () => {
  test("events come out by time, then in the order they were scheduled", () => {
    const s = new Scheduler<string>();
    s.at(5, "b");
    s.at(1, "a");
    s.at(5, "c");
    s.at(3, "x");
    assert.deepEqual([s.next(), s.next(), s.next(), s.next(), s.next()], ["a", "x", "b", "c", undefined]);
    assert.equal(s.nowMs, 5);
  });
});

describe("network", () => {
  test("a cut link loses everything; the other direction and healed links deliver", () => {
    const net = new SimNetwork(new Prng(1));
    const msg = (from: number, to: number) => ({
      type: MessageType.Heartbeat, from, to, term: 1, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, rejectHintTerm: 0,
    });
    net.cut(1, 2);
    assert.deepEqual(net.plan(msg(1, 2)), []);
    assert.equal(net.plan(msg(2, 1)).length, 1);
    net.healAll();
    assert.equal(net.plan(msg(1, 2)).length, 1);
  });
});

describe("simulated disk", () => {
  test("a write replaces the conflicting suffix, and a restart reads back exactly what was written", () => {
    const store = new SimStore(conf);
    store.write(readyWith({ entries: [entry(1, 1), entry(2, 1), entry(3, 1)], hardState: { term: 1, vote: 1, commit: 1 } }), undefined);
    store.write(readyWith({ entries: [entry(2, 2)], hardState: { term: 2, vote: 2, commit: 1 } }), undefined);
    const state = store.restore();
    assert.deepEqual(state.entries.map((e) => [e.index, e.term]), [[1, 1], [2, 2]]);
    assert.deepEqual(state.hardState, { term: 2, vote: 2, commit: 1 });
  });

  test("compaction to an applied point keeps the tail after it; never past the stored state or on another term", () => {
    const store = new SimStore(conf);
    store.write(readyWith({ entries: [entry(1, 1), entry(2, 1), entry(3, 1)] }), undefined);
    store.app.apply(entry(1, 1));
    store.app.apply(entry(2, 1));
    assert.throws(() => store.compactTo({ index: 3, term: 1, conf }), /beyond the stored state at 2/);
    assert.throws(() => store.compactTo({ index: 1, term: 2, conf }), /the stored entry has 1/);
    store.compactTo({ index: 1, term: 1, conf });
    assert.equal(store.snapshotIndex, 1);
    assert.equal(store.app.appliedIndex, 2, "the state stays whole");
    assert.deepEqual(store.restore().entries.map((e) => e.index), [2, 3]);
  });
});

describe("simulation", () => {
  test("a seed replays exactly", async () => {
    const first = await runSimulation({ seed: 7, steps: 500 });
    const again = await runSimulation({ seed: 7, steps: 500 });
    assert.equal(first.failure, undefined);
    assert.deepEqual(again.stats, first.stats);
  });
});
