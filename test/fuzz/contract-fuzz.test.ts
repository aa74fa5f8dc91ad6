// The contract fuzzer against a live three-node cluster (see test/support/fuzz/fuzzer.ts).
// FUZZ_SECONDS (default 20) bounds the run, FUZZ_SEED replays one; a failure prints its seed.
// FUZZ_REPORT=<file> writes the run's figures (calls, seconds, statuses) as JSON. FUZZ_SECURE=1 runs it
// against a cluster with security on, as the superuser (contract-fuzz-secure.test.ts does a short run).
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { startCluster } from "../support/cluster";
import { startSecureCluster, superuserCredentials } from "../support/secure-cluster";
import { fuzzContract } from "../support/fuzz/fuzzer";

const seconds = Number(process.env.FUZZ_SECONDS ?? 20);
const seed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;
const secure = process.env.FUZZ_SECURE === "1";

test(`every rpc of every public service answers random and mutated requests as documented (seed ${seed}, ${seconds} s${secure ? ", security on" : ""})`, { timeout: (seconds + 180) * 1000 }, async (t) => {
  assert.ok(Number.isInteger(seed) && seconds > 0, "FUZZ_SEED must be an integer and FUZZ_SECONDS positive");
  // No retention ticks: between calls, only the fuzzer's own requests may write to the log.
  const options = { nodes: 3, extraArgs: ["--retention-check-ms", "3600000"] };
  const { cluster, credentials } = secure
    ? await startSecureCluster(options).then(({ cluster, material }) => ({ cluster, credentials: superuserCredentials(material) }))
    : { cluster: await startCluster(options), credentials: undefined };
  await cluster.waitForLeader(15000);
  t.diagnostic(`seed ${seed}`);
  const report = await fuzzContract({
    cluster,
    seed,
    seconds,
    credentials,
    replay: `${secure ? "FUZZ_SECURE=1 " : ""}FUZZ_SEED=${seed} FUZZ_SECONDS=${seconds} node --test dist/test/fuzz/contract-fuzz.test.js`,
  });
  t.diagnostic(`calls ${report.calls} in ${report.seconds} s; statuses ${JSON.stringify(report.statuses)}`);
  t.diagnostic(`calls per method ${JSON.stringify(report.methods)}`);
  if (process.env.FUZZ_REPORT) writeFileSync(process.env.FUZZ_REPORT, JSON.stringify(report, null, 2));
  assert.ok(report.calls > 0);
  assert.equal(Object.keys(report.methods).length, new Set(Object.keys(report.methods)).size);
});
