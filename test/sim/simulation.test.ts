// The seeded simulation suite. Every seed is a different hostile run of a 3- or 5-node cluster; every
// failure prints the seed and the command that replays it.
//   SEEDS=n   how many seeds (default 500)      STEPS=n   steps per seed (default 2000)
//   SEED=s    replay one seed                   TRACE=1   with SEED: print every step
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatFailure, runSimulation, SimulationResult } from "../support/sim/simulation";

const steps = envInt("STEPS", 2000);
const seeds = envInt("SEEDS", 500);
const replaySeed = process.env.SEED === undefined ? undefined : envInt("SEED", 0);
/** Failures beyond this many are counted, not printed. */
const maxFailuresPrinted = 5;
const progressEverySeeds = 1000;

if (replaySeed !== undefined) {
  test(`seed ${replaySeed}, ${steps} steps`, async () => {
    const trace = process.env.TRACE === "1" ? (line: string) => console.log(line) : undefined;
    const result = await runSimulation({ seed: replaySeed, steps, onStep: trace });
    console.log(summarize([result]));
    if (result.failure !== undefined) assert.fail(formatFailure(result));
  });
} else {
  test(`${seeds} seeds x ${steps} steps, alternating 3- and 5-node clusters`, async () => {
    const results: SimulationResult[] = [];
    for (let seed = 1; seed <= seeds; seed++) {
      results.push(await runSimulation({ seed, steps }));
      // A long run says how far it got, so that one cut short still tells something.
      if (seeds >= 2 * progressEverySeeds && seed % progressEverySeeds === 0) console.log(progress(results));
    }
    console.log(summarize(results));
    const failed = results.filter((r) => r.failure !== undefined);
    if (failed.length > 0) {
      const shown = failed.slice(0, maxFailuresPrinted).map(formatFailure);
      assert.fail(`${failed.length} of ${seeds} seeds failed (seeds ${failed.map((r) => r.seed).join(", ")})\n\n${shown.join("\n\n")}`);
    }
  });
}

function progress(results: SimulationResult[]): string {
  const failed = results.filter((r) => r.failure !== undefined).map((r) => r.seed);
  const at = new Date().toISOString().slice(11, 19);
  return `${at} seeds 1..${results.length}: ${failed.length} failed${failed.length > 0 ? ` (seeds ${failed.join(", ")})` : ""}`;
}

function summarize(results: SimulationResult[]): string {
  const total = (pick: (r: SimulationResult) => number) => results.reduce((sum, r) => sum + pick(r), 0);
  const recoveries = results.filter((r) => r.failure === undefined).map((r) => r.stats.recoveryMs).sort((a, b) => a - b);
  const worstRecoveryMs = recoveries.length === 0 ? 0 : recoveries[recoveries.length - 1];
  return (
    `simulated ${results.length} seeds: ${total((r) => r.stats.stepsRun)} steps, ` +
    `${total((r) => r.stats.leadersElected)} leaders, ${total((r) => r.stats.writesAcked)} writes acknowledged ` +
    `of ${total((r) => r.stats.writesProposed)} proposed, ${total((r) => r.stats.readsDone)} reads, ` +
    `${total((r) => r.stats.snapshotsInstalled)} snapshots installed, ${total((r) => r.stats.confChangesCommitted)} ` +
    `membership changes, ${total((r) => r.stats.faults)} faults; slowest recovery ${Math.round(worstRecoveryMs)} ms simulated`
  );
}

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${raw}`);
  return value;
}
