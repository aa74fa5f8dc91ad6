// A short contract fuzz with security on, as the superuser: TLS, token authentication and the access
// check in front of every handler keep every answer documented. FUZZ_SECURE_SECONDS (default 8) bounds
// it; `FUZZ_SECURE=1 FUZZ_SECONDS=600 node --test dist/test/fuzz/contract-fuzz.test.js` is the long run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fuzzContract } from "../support/fuzz/fuzzer";
import { startSecureCluster, superuserCredentials } from "../support/secure-cluster";

const seconds = Number(process.env.FUZZ_SECURE_SECONDS ?? 8);
const seed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;

test(`with security on, every rpc answers random and mutated requests as documented (seed ${seed}, ${seconds} s)`, { timeout: (seconds + 180) * 1000 }, async (t) => {
  const { cluster, material } = await startSecureCluster({ nodes: 3, extraArgs: ["--retention-check-ms", "3600000"] });
  await cluster.waitForLeader(15000);
  const report = await fuzzContract({
    cluster,
    seed,
    seconds,
    credentials: superuserCredentials(material),
    replay: `FUZZ_SECURE=1 FUZZ_SEED=${seed} FUZZ_SECONDS=${seconds} node --test dist/test/fuzz/contract-fuzz.test.js`,
  });
  t.diagnostic(`calls ${report.calls} in ${report.seconds} s; statuses ${JSON.stringify(report.statuses)}`);
  assert.ok(report.calls > 0);
});
