// Disk repair with security on: a follower of a TLS cluster, stopped and its LevelDB files damaged as the
// chaos nemesis damages them, restarts on a fresh directory and asks its peers to replace it. It does so
// as a node (mutual TLS with its node certificate, no user token), is replaced, catches up from the
// leader and votes again; every record acknowledged meanwhile is on every node, dense and in order.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { setConnectionDefaults } from "../support/connection-defaults";
import { flipBytesInside, flipRandomBytes } from "../support/disk-damage";
import { SteadyProducer, asideDirs, damageReports, logLines, readAll, recordMarker, waitRepaired } from "../support/repair-checks";
import { secureConnection, startSecureCluster } from "../support/secure-cluster";
import { Prng } from "../support/sim/prng";
import { waitFor } from "../support/wait";

const topic = "disk-secure";
/** As many random flips as one corrupt-follower fault of the chaos nemesis makes. */
const randomFlips = 4;
const flipSeed = 0x5eed;

after(() => setConnectionDefaults(undefined));

test("with security on, a follower whose files are damaged is replaced as a node by mutual TLS and catches up; nothing acknowledged is lost", async () => {
  const { cluster, material } = await startSecureCluster({ extraArgs: ["--db-write-buffer-bytes", String(1024 * 1024)] });
  setConnectionDefaults(secureConnection(material));
  const client = cluster.client();
  await client.admin().createTopic({ name: topic, partitions: 1 });
  const producer = new SteadyProducer(client, topic);
  await producer.progress(300);
  const leader = await cluster.waitForLeader(15000);
  const follower = cluster.nodes.map((n) => n.id).find((id) => id !== leader) ?? 0;
  const node = cluster.node(follower);

  await cluster.kill(follower, "SIGKILL");
  const prng = new Prng(flipSeed);
  await flipRandomBytes(node.dataDir, randomFlips, () => prng.next());
  // Random flips may land where nothing reads them; flips inside the stored records are always found.
  assert.ok((await flipBytesInside(node.dataDir, Buffer.from(recordMarker))) > 0, "the records are in the follower's files");
  await cluster.restart(follower, { deadlineMs: 30000 });
  await waitFor(() => damageReports(cluster, follower) >= 1, 10000, "the follower to report the damage");
  assert.equal(asideDirs(cluster, follower).length, 1, "the damaged directory is kept aside");
  await waitRepaired(cluster, follower, topic, producer);
  assert.equal(logLines(cluster, follower, "the cluster replaced this node"), 1, "replaced through ReplaceNode, as a node");

  await producer.progress(50);
  const acked = await producer.stop();
  for (const n of cluster.nodes) {
    const records = await readAll(n.clientAddress, topic);
    assert.deepEqual(records.slice(0, acked.length), acked, `node ${n.id} holds every acknowledged record in order`);
  }
});
