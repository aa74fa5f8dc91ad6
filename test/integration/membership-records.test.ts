// What the log records about members, with real processes: a learner kept as one (stay_learner) stays
// a learner under another leader; a node that joined while a voter was down — so never met it — still
// refuses that voter's wiped copy under its old id, by the incarnation the log recorded; and a data
// directory from another cluster is refused by its would-be peers with a clear message while the
// cluster goes on serving.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, rmSync } from "node:fs";
import { cliPath, startCluster } from "../support/cluster";
import { layOutLocalCluster } from "../support/cluster-node";
import { changeDeadlineMs, electionDeadlineMs, logOf, membershipOf, readAll, waitVoters, whenIdle } from "../support/membership";
import { waitFor } from "../support/wait";

/** How long a held learner is watched, caught up, under a new leader, for a promotion that must not come. */
const heldWatchMs = 3000;

test("stay_learner survives a leader change; a wiped voter is refused by a node that never met its old incarnation", async () => {
  const cluster = await startCluster({ extraArgs: ["--snapshot-entries", "20"] });
  await cluster.waitForLeader(electionDeadlineMs);
  const client = cluster.client();
  const admin = client.admin();
  await admin.createTopic({ name: "r", partitions: 1 });
  const producer = client.producer({ lingerMs: 0 });
  const acked: string[] = [];
  const write = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const value = `r${acked.length}`;
      await producer.send({ topic: "r", partition: 0, records: [{ value }] });
      acked.push(value);
    }
  };
  await write(30);

  // Node 3 goes down before node 4 exists: node 4 never meets this incarnation of node 3.
  await cluster.stop(3);
  const n4 = await cluster.startJoiner(4, cluster.node(1).clientAddress);
  await whenIdle(() => admin.addNode({ nodeId: 4, clientAddress: n4.clientAddress, peerAddress: n4.peerAddress, stayLearner: true }));
  await write(30);
  await waitFor(async () => (await readAll(n4.clientAddress, "r")).length >= acked.length, changeDeadlineMs, "node 4 to catch up");

  // Another leader, which did not take the AddNode call, still holds node 4 back: the hold is in the log.
  const before = await cluster.waitForLeader(electionDeadlineMs, { among: [1, 2, 4] });
  const other = before === 1 ? 2 : 1;
  await admin.transferLeadership(other);
  await cluster.waitForLeader(electionDeadlineMs, { among: [1, 2, 4] });
  const watchUntil = Date.now() + heldWatchMs;
  while (Date.now() < watchUntil) {
    assert.deepEqual(await membershipOf(client), { voters: [1, 2, 3], learners: [4] }, "node 4 is held as a learner");
    await write(1);
  }

  // Promoted on request, then leading: it replicates to node 3's address, where a wiped copy now runs.
  await whenIdle(() => admin.promoteLearner(4));
  await cluster.restart(3, { wipe: true });
  await admin.transferLeadership(4);
  await write(10);
  await waitFor(
    () => /"peer":4,.*knows node 3 as incarnation [0-9a-f]+, but it came back as [0-9a-f]+/.test(logOf(cluster, 3)),
    changeDeadlineMs,
    "node 4 to refuse node 3's new incarnation by the recorded one",
  );
  assert.deepEqual(await readAll(cluster.node(3).clientAddress, "r").catch(() => []), [], "the wiped node got nothing");

  // Replaced, node 3 is back; every voter holds every acknowledged write.
  await whenIdle(() => admin.replaceNode(3));
  await waitVoters(client, [1, 2, 3, 4]);
  await write(10);
  for (const id of [1, 2, 3, 4]) {
    await waitFor(async () => (await readAll(cluster.node(id).clientAddress, "r")).length >= acked.length, changeDeadlineMs, `node ${id} to hold every write`);
    assert.deepEqual(await readAll(cluster.node(id).clientAddress, "r"), acked);
  }
  await producer.close();
});

test("a data directory from another cluster is refused with a clear message; the cluster keeps serving", async () => {
  const cluster = await startCluster();
  await cluster.waitForLeader(electionDeadlineMs);
  // Another cluster's node 3: started once, alone, so that its directory holds that cluster's identity.
  const foreign = await layOutLocalCluster({ count: 3, cliPath, dirPrefix: "raftline-foreign-" });
  const stranger = foreign.nodes[2];
  try {
    stranger.start();
    await stranger.waitServing(electionDeadlineMs);
    stranger.signal("SIGKILL");
    await stranger.waitExit(electionDeadlineMs);
  } finally {
    stranger.signal("SIGKILL");
  }
  await cluster.stop(3);
  const dir = cluster.node(3).dataDir;
  rmSync(dir, { recursive: true, force: true });
  cpSync(stranger.dataDir, dir, { recursive: true });
  rmSync(foreign.root, { recursive: true, force: true });
  await cluster.restart(3);

  await waitFor(() => /belongs to cluster [0-9a-f]+, node \d to cluster [0-9a-f]+: a data directory from another cluster/.test(logOf(cluster, 3)), changeDeadlineMs, "node 3 to be told");
  const client = cluster.client();
  const admin = client.admin();
  await admin.createTopic({ name: "f", partitions: 1 });
  const producer = client.producer({ lingerMs: 0 });
  await producer.send({ topic: "f", partition: 0, records: [{ value: "still serving" }] });
  assert.deepEqual(await readAll(cluster.node(1).clientAddress, "f"), ["still serving"]);
  assert.ok(!(await readAll(cluster.node(3).clientAddress, "f").catch((): string[] => [])).includes("still serving"), "the stranger got nothing");
  await producer.close();
});
