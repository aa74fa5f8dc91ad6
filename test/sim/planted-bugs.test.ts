// Every checker earns its place: each test plants the bug a checker guards against — in the driver, the
// disk or a wrapper around the core, never in src/raft — and expects that checker to catch it. The
// seeded plants are searched over a bounded number of seeds; Figure 8 is scripted step by step.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MessageType, Role } from "../../src/raft";
import {
  answersBeforePersisting,
  appliesBeforeCommit,
  claimsTransferOnEveryCampaign,
  commitsOldTermByCounting,
  countsOwnWriteBeforeItLands,
  defersTransfer,
  dropsPreVote,
  failsWritesOnStepDown,
  keepsStaleSuffix,
  losesUnsyncedTail,
  neverTicks,
  PlantedBug,
  servesStaleReads,
  votesTwiceInOneTerm,
} from "../support/sim/plants";
import { Scenario } from "../support/sim/scenario";
import { Plant, runSimulation, SimulationResult } from "../support/sim/simulation";

/** Bound on seeds searched for one planted bug; each is caught well within it. */
const maxSeedsPerPlant = 50;
const stepsPerSeed = 2000;

async function firstCatch(bug: PlantedBug): Promise<SimulationResult | undefined> {
  for (let seed = 1; seed <= maxSeedsPerPlant; seed++) {
    const result = await runSimulation({ seed, steps: stepsPerSeed, plant: bug.plant });
    if (result.failure?.checker === bug.caughtBy) return result;
  }
  return undefined;
}

async function expectCaught(bug: PlantedBug): Promise<void> {
  const caught = await firstCatch(bug);
  assert.ok(caught !== undefined, `"${bug.plant.name}" went unnoticed by ${bug.caughtBy} in ${maxSeedsPerPlant} seeds`);
  console.log(`"${bug.plant.name}" caught by ${bug.caughtBy} at seed ${caught.seed}, step ${caught.failure?.step}: ${caught.failure?.message}`);
}

describe("each checker catches the bug it guards against", () => {
  test("election safety: a node that votes twice in one term", () => expectCaught(votesTwiceInOneTerm));
  test("log matching: a disk that keeps a stale suffix when overwriting", () => expectCaught(keepsStaleSuffix));
  test("committed entries durable: a driver that answers before persisting, then loses power", () =>
    expectCaught(answersBeforePersisting));
  test("committed entries durable: a disk that loses its unsynced tail on a crash", () => expectCaught(losesUnsyncedTail));
  test("committed entries durable: a driver that counts its own write towards commit before it lands", () =>
    expectCaught(countsOwnWriteBeforeItLands));
  test("state machine safety: a driver that applies entries before they commit", () => expectCaught(appliesBeforeCommit));
  test("linearizable reads: a node that serves reads from its local state", () => expectCaught(servesStaleReads));
  test("proposal outcomes: a driver that reports writes lost when its leader steps down", () =>
    expectCaught(failsWritesOnStepDown));
  test("liveness: nodes whose timers never fire", () => expectCaught(neverTicks));
  test("leader stability: a driver that marks every campaign as a leadership transfer", () =>
    expectCaught(claimsTransferOnEveryCampaign));
  test("term inflation: a driver that builds its core without PreVote", () => expectCaught(dropsPreVote));
  test("transfer freeze: a driver that acknowledges a transfer before the core has it", () => expectCaught(defersTransfer));
});

/**
 * Raft Figure 8, with five nodes. X is written at index k in term T1 and reaches S2 only; S5 wins term
 * T2 without X and puts its own entry at k; S1 comes back, wins a later term and copies X to S3 and S4
 * (a majority now holds X) before its own term's entry reaches anyone — then crashes. S5 can still win:
 * its last term T2 beats T1. So X must not count as committed, and a correct leader never says it is.
 */
async function figure8(plant: Plant | undefined): Promise<{ scenario: Scenario; k: number; termX: number }> {
  const s = new Scenario({ nodeCount: 5, raft: { maxMsgBytes: 1 }, plant });
  const network = s.cluster.network;
  const [s1, s2, s3, s4, s5] = [1, 2, 3, 4, 5].map((id) => s.node(id));

  await s.elect(1);
  await s.runUntil("every node applied S1's term-start entry", () => [s2, s3, s4, s5].every((n) => n.store.app.appliedIndex >= s1.store.lastIndex()));
  await s.act("cut S1 off from S3, S4, S5", () => [3, 4, 5].forEach((id) => network.cut(1, id)));
  await s.write(1);
  const k = s1.store.lastIndex();
  const termX = s1.term;
  await s.runUntil("S2 holds X", () => s2.store.termAt(k) === termX);

  await s.act("crash S1; S5's appends will be lost", () => {
    s.cluster.crash(1);
    network.dropIf = (m) => m.from === 5 && m.type === MessageType.App;
  });
  await s.elect(5);
  await s.runUntil("S5 holds its own entry at k", () => (s5.store.termAt(k) ?? 0) > termX);

  await s.act("crash S5; restart S1; S1's entries of its new term will not be accepted anywhere", () => {
    s.cluster.crash(5);
    network.healAll();
    const holders = new Map([[2, s2], [3, s3], [4, s4]]);
    // An App is accepted only by a follower holding its previous entry: those are the ones lost.
    network.dropIf = (m) =>
      m.from === 1 &&
      m.type === MessageType.App &&
      m.entries.some((e) => e.term > termX) &&
      (holders.get(m.to)?.store.lastIndex() ?? 0) >= m.index;
    s.cluster.restart(1);
  });
  await s.elect(1);
  await s.runUntil("S3 and S4 hold X", () => s3.store.termAt(k) === termX && s4.store.termAt(k) === termX);
  await s.runForMs(100);

  await s.act("crash S1; heal the network; restart S5", () => {
    s.cluster.crash(1);
    network.dropIf = undefined;
    s.cluster.restart(5);
  });
  await s.elect(5);
  await s.runForMs(200);
  return { scenario: s, k, termX };
}

describe("Figure 8: committing an entry from an earlier term by counting replicas", () => {
  test("a correct leader does not commit it, and overwriting it later is safe", async () => {
    const { scenario, k, termX } = await figure8(undefined);
    assert.equal(scenario.violation, undefined, scenario.violation?.message);
    assert.equal(scenario.node(5).role, Role.Leader);
    for (const id of [2, 3, 4]) assert.notEqual(scenario.node(id).store.termAt(k), termX, `node ${id} still holds X`);
  });

  test("leader completeness: a driver that commits it by counting is caught", async () => {
    const { scenario } = await figure8(commitsOldTermByCounting.plant);
    assert.equal(scenario.violation?.checker, commitsOldTermByCounting.caughtBy, scenario.violation?.message);
    console.log(`caught: ${scenario.violation?.message}`);
  });
});
