// What a mutation run executes against every mutant of the consensus core, in one process: first a small
// seeded simulation, which kills most mutants within a second and then exits at once, then the raft unit
// tests under node:test. One process instead of one per test file, and stopping at the first failing seed,
// keep a mutant's run to a few seconds (see test/sim/MUTATION.md).
//   MUTATION_SEEDS=n (default 30)   MUTATION_STEPS=n (default 1500)
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

const unitTests = [
  "../unit/raft-codec.test",
  "../unit/raft-election-rules.test",
  "../unit/raft-election.test",
  "../unit/raft-invariants.test",
  "../unit/raft-log.test",
  "../unit/raft-membership.test",
  "../unit/raft-proposal-tracker.test",
  "../unit/raft-prevote-stale-grant.test",
  "../unit/raft-proposals.test",
  "../unit/raft-quorum-kinds.test",
  "../unit/raft-read-index.test",
  "../unit/raft-read-only.test",
  "../unit/raft-ready.test",
  "../unit/raft-replication.test",
  "../unit/raft-snapshot-while-applying.test",
  "../unit/raft-snapshot.test",
  "../unit/raft-transfer.test",
];
void simulate().then(() => {
  for (const path of unitTests) require(path);
});
