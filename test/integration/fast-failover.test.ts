// Fast failover: followers whose connection to the leader resets (its process was killed) campaign at once;
// a leader that merely goes silent (stopped, connections open) is replaced only after the election timeout,
// with no such shortcut. How fast each is: `npm run bench -- failover`.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { startCluster } from "../support/cluster";
import { waitFor } from "../support/wait";

const resetLine = "connection to the leader reset";

function sawReset(logPath: string): boolean {
  return readFileSync(logPath, "utf8").includes(resetLine);
}

test("a killed leader's followers campaign on the connection reset; a stopped one's wait out the timeout", async () => {
  const cluster = await startCluster();
  const first = await cluster.waitForLeader(15000);
  const survivors = cluster.nodes.filter((n) => n.id !== first);
  await cluster.kill(first);
  const second = await cluster.waitForLeader(15000, { among: survivors.map((n) => n.id) });
  assert.ok(
    survivors.some((n) => sawReset(n.logPath)),
    `no survivor campaigned on the reset\n${cluster.logTails()}`,
  );

  await cluster.restart(first);
  await cluster.waitForLeader(15000);
  const silent = cluster.nodes.filter((n) => n.id !== second);
  const before = silent.map((n) => readFileSync(n.logPath, "utf8").split(resetLine).length);
  for (const n of silent) n.leaderTerm = 0;
  cluster.pause(second);
  // Probes through the SDK could be sent to the stopped node: the nodes' own leadership events tell instead.
  await waitFor(() => silent.some((n) => n.leaderTerm > 0), 15000, "a leader among the others");
  const after = silent.map((n) => readFileSync(n.logPath, "utf8").split(resetLine).length);
  assert.deepEqual(after, before, "a silent leader was taken for a reset one");
  cluster.resume(second);
});
