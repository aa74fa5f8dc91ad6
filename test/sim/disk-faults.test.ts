// Disk faults in the simulation, each searched over a bounded number of seeds: the first failure must be
// the expected one. A flipped bit read back unchecked is caught by a checker; under the production CRC
// the node stops at its restart (the simulation does not model the repair that follows on real nodes:
// test/integration/disk-faults.test.ts). A log cut short is caught by the durability checker.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { flipsBitInChecksummedEntry, flipsBitInStoredEntry, truncatesLog } from "../support/sim/disk-faults";
import type { PlantedBug } from "../support/sim/plants";
import { runSimulation, type SimulationResult } from "../support/sim/simulation";

const maxSeeds = 50;
const stepsPerSeed = 2000;

/** The first failure of any kind over the seeds: it must be the expected checker (nothing earlier). */
async function firstFailure(bug: PlantedBug): Promise<SimulationResult | undefined> {
  for (let seed = 1; seed <= maxSeeds; seed++) {
    const result = await runSimulation({ seed, steps: stepsPerSeed, plant: bug.plant });
    if (result.failure !== undefined) return result;
  }
  return undefined;
}

async function expectCaught(bug: PlantedBug, message?: RegExp): Promise<void> {
  const caught = await firstFailure(bug);
  assert.ok(caught?.failure !== undefined, `"${bug.plant.name}" went unnoticed in ${maxSeeds} seeds`);
  assert.equal(caught.failure.checker, bug.caughtBy, `seed ${caught.seed}: ${caught.failure.message}`);
  if (message) assert.match(caught.failure.message, message);
  console.log(`"${bug.plant.name}" caught by ${bug.caughtBy} at seed ${caught.seed}, step ${caught.failure.step}: ${caught.failure.message}`);
}

describe("disk faults in the simulated disk", () => {
  test("a flipped bit in a stored entry, unchecked, is caught by a checker", () => expectCaught(flipsBitInStoredEntry));
  test("the same flipped bit under the production CRC stops the node at its restart", () =>
    expectCaught(flipsBitInChecksummedEntry, /CRC-32C mismatch/));
  test("a log cut short is caught by the durability checker (the rule the production store loads by)", () =>
    expectCaught(truncatesLog, /beyond its durable log/));
});
