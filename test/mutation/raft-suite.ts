// What a mutation run executes against every mutant of the consensus core, in one process: first a small
// seeded simulation, which kills most mutants within a second and then exits at once, then the raft unit
// tests under node:test. One process instead of one per test file, and stopping at the first failing seed,
// keep a mutant's run to a few seconds (see test/sim/MUTATION.md).
//   MUTATION_SEEDS=n (default 30)   MUTATION_STEPS=n (default 1500)
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { formatFailure, runSimulation } from "../support/sim/simulation";

const seeds = Number(process.env.MUTATION_SEEDS ?? 30);
const steps = Number(process.env.MUTATION_STEPS ?? 1500);

async function simulate(): Promise<void> {
  for (let seed = 1; seed <= seeds; seed++) {
    const result = await runSimulation({ seed, steps });
    if (result.failure !== undefined) {
      console.error(formatFailure(result));
      process.exit(1);
    }
  }
  console.log(`simulation: ${seeds} seeds x ${steps} steps passed`);
}

// Every raft unit test file, found by name, so that a new one cannot be left out of the run.
const unitTests = readdirSync(join(__dirname, "..", "unit"))
  .filter((name) => /^raft-.*\.test\.js$/.test(name))
  .map((name) => join(__dirname, "..", "unit", name));
void simulate().then(() => {
  for (const path of unitTests) require(path);
});
