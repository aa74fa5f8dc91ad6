// The contract fuzzer against a live three-node cluster (see test/support/fuzz/fuzzer.ts).
// FUZZ_SECONDS (default 20) bounds the run, FUZZ_SEED replays one; a failure prints its seed.
// FUZZ_REPORT=<file> writes the run's figures (calls, seconds, statuses) as JSON.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { startCluster } from "../support/cluster";
import { fuzzContract } from "../support/fuzz/fuzzer";

const seconds = Number(process.env.FUZZ_SECONDS ?? 20);
const seed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;

test(`every rpc of every public service answers random and mutated requests as documented (seed ${seed}, ${seconds} s)`, { timeout: (seconds + 180) * 1000 }, async (t) => {
  assert.ok(Number.isInteger(seed) && seconds > 0, "FUZZ_SEED must be an integer and FUZZ_SECONDS positive");
  // No retention ticks: between calls, only the fuzzer's own requests may write to the log.
  const cluster = await startCluster({ nodes: 3, extraArgs: ["--retention-check-ms", "3600000"] });
  await cluster.waitForLeader(15000);
  t.diagnostic(`seed ${seed}`);
  const report = await fuzzContract({
    cluster,
    seed,
    seconds,
    replay: `FUZZ_SEED=${seed} FUZZ_SECONDS=${seconds} node --test dist/test/fuzz/contract-fuzz.test.js`,
  });
  t.diagnostic(`calls ${report.calls} in ${report.seconds} s; statuses ${JSON.stringify(report.statuses)}`);
  t.diagnostic(`calls per method ${JSON.stringify(report.methods)}`);
  if (process.env.FUZZ_REPORT) writeFileSync(process.env.FUZZ_REPORT, JSON.stringify(report, null, 2));
  assert.ok(report.calls > 0);
  assert.equal(Object.keys(report.methods).length, new Set(Object.keys(report.methods)).size);
});
