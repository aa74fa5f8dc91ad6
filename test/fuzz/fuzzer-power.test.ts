// The fuzzer's own power: with a handler bug planted in the nodes (see src/server/test-plants.ts: an enum
// field left unvalidated; a refusal that writes to the log), a bounded run with a fixed seed must find it
// and name its seed (seed 1 finds each within a few seconds; the bound is generous).
import { test } from "node:test";
import assert from "node:assert/strict";
import { startCluster } from "../support/cluster";
import { FuzzFailure, fuzzContract } from "../support/fuzz/fuzzer";
import { contractMethods } from "../support/fuzz/contract-methods";

const maxSeconds = 90;

/** Runs the fuzzer against nodes with `plant` planted; resolves with the failure it reports. */
async function fuzzWithPlant(plant: string, seed: number, only?: (path: string) => boolean): Promise<FuzzFailure> {
  const cluster = await startCluster({ nodes: 3, extraArgs: ["--retention-check-ms", "3600000"], env: { RAFTLINE_TEST_PLANT: plant } });
  await cluster.waitForLeader(15000);
  const found = await fuzzContract({ cluster, seed, seconds: maxSeconds, only }).then(
    () => undefined,
    (err: unknown) => err,
  );
  assert.ok(found instanceof FuzzFailure, `the planted bug went unnoticed for ${maxSeconds} s: ${String(found)}`);
  assert.match(found.message, new RegExp(`seed ${seed}`));
  return found;
}

test("the fuzzer finds a planted unvalidated enum field", { timeout: (maxSeconds + 120) * 1000 }, async () => {
  // The data-plane rpcs, whose enum-bearing requests succeed without set-up (with 36 rpcs to choose from,
  // a run over all of them reached an accepted bad enum only sometimes within the bound).
  const found = await fuzzWithPlant("enum-unvalidated", 1, (path) => path.startsWith("/raftline.v1.Producer/") || path.startsWith("/raftline.v1.Consumer/"));
  assert.match(found.message, /accepted an invalid request/);
});

test("the fuzzer finds a refusal that writes to the log", { timeout: (maxSeconds + 120) * 1000 }, async () => {
  const found = await fuzzWithPlant("refusal-writes", 1);
  assert.match(found.message, /DeleteTopic/);
  assert.match(found.message, /a refused call changed the cluster's state/);
});

test("the fuzzer's method list comes from the contract: every service and rpc", () => {
  const paths = contractMethods().map((m) => m.path);
  for (const p of ["/raftline.v1.Producer/Produce", "/raftline.v1.Producer/ProduceStream", "/raftline.v1.Consumer/Subscribe", "/raftline.v1.Admin/ListTopics", "/raftline.v1.ConsumerGroups/Join", "/raftline.v1.ConsumerGroups/ResetOffsets", "/raftline.v1.ShareGroups/Pop", "/raftline.v1.ShareGroups/DeleteShareGroup", "/raftline.v1.Admin/AddAcl"]) {
    assert.ok(paths.includes(p), p);
  }
  assert.equal(paths.length, 36);
});
