// Security between the nodes: a node whose certificate comes from another CA is refused by the others
// (and refuses them) and never joins in; node certificates replaced on disk under a steady produce load
// are taken up without a restart, and every acknowledged record is there afterwards.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:tls";
import { RaftlineClient, RaftlineError } from "../../src/client";
import { issueCertificate, writeIssued } from "../../src/cli/dev-certificates";
import { asSuperuser, secureMaterial, startSecureCluster } from "../support/secure-cluster";
import { waitFor } from "../support/wait";

/** The serial number of the certificate a node's client port presents to a new connection. */
function servedSerial(address: string, ca: string): Promise<string> {
  const [host, port] = address.split(":");
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: Number(port), ca, servername: "localhost", ALPNProtocols: ["h2"] }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on("error", reject);
  });
}

test("a node with a certificate of another CA cannot join: the others go on without it", async () => {
  const { cluster, material } = await startSecureCluster();
  await cluster.waitForLeader(20000);
  const other = await secureMaterial("other");
  const node3 = cluster.node(3);
  await cluster.stop(3);
  const swap = new Map([
    [material.node.cert, other.node.cert],
    [material.node.key, other.node.key],
    [material.caFile, other.caFile],
    [material.superuserTokenFile, other.superuserTokenFile],
  ]);
  node3.spec.args = node3.spec.args.map((a) => swap.get(a) ?? a);
  await cluster.restart(3);

  const client = cluster.client();
  await client.admin().createTopic({ name: "without-3", partitions: 1 });
  const placed = await client.producer().send({ topic: "without-3", records: [{ value: "a" }, { value: "b" }] });
  assert.equal(placed.length, 2);
  const leaderView = await client.admin().describeCluster();
  const committed = Math.max(...leaderView.nodes.map((n) => n.commitIndex));

  // Node 3 answers only clients of its own CA. It never hears of the leader: DescribeCluster, which a
  // follower forwards to the leader, finds none (each attempt waits its 3 s for one).
  const stray = new RaftlineClient({ brokers: [node3.clientAddress], ...asSuperuser(other), retry: { maxAttempts: 1 } });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      const seen = await stray.admin().describeCluster().then(
        (view) => `leader ${view.leaderId}`,
        (err: unknown) => (err instanceof RaftlineError ? err.reason : String(err)),
      );
      assert.ok(seen === "ERROR_REASON_NOT_LEADER" || seen === "ERROR_REASON_NO_QUORUM", `node 3 answered ${seen}`);
    }
  } finally {
    await stray.close({ flush: false });
  }
  const view = await client.admin().describeCluster();
  const node3View = view.nodes.find((n) => n.id === 3);
  assert.ok((node3View?.appliedIndex ?? 0) < committed, `node 3 applied ${node3View?.appliedIndex} of ${committed}`);
  const after = await client.consumer().fetch({ topic: "without-3", partition: 0, offset: 0 });
  assert.deepEqual(after.records.map((r) => r.value.toString()), ["a", "b"]);
});

test("node certificates replaced on disk under load are served without a restart, and nothing acknowledged is lost", async () => {
  const { cluster, material } = await startSecureCluster({ extraArgs: ["--cert-reload-ms", "200"] });
  await cluster.waitForLeader(20000);
  const client = cluster.client();
  await client.admin().createTopic({ name: "rotating", partitions: 1 });
  const before = await servedSerial(cluster.node(1).clientAddress, material.ca.certPem);

  const acked: string[] = [];
  let stop = false;
  const producer = client.producer({ idempotent: true });
  const load = (async () => {
    for (let i = 0; !stop; i++) {
      const records = Array.from({ length: 10 }, (_, j) => ({ value: `r${i}-${j}` }));
      await producer.send({ topic: "rotating", records });
      acked.push(...records.map((r) => r.value));
    }
  })();
  await waitFor(() => acked.length >= 200, 20000, "load before the rotation");
  const renewed = await issueCertificate(material.ca, { commonName: "raftline-node", hosts: ["127.0.0.1", "localhost"] });
  await writeIssued(material.dir, "node", renewed);
  const atRotation = acked.length;
  for (const node of cluster.nodes) {
    await waitFor(async () => (await servedSerial(node.clientAddress, material.ca.certPem)) !== before, 20000, `node ${node.id} to serve the new certificate`);
  }
  // Peers open new links with the new certificates: a leader change makes every follower connect anew.
  await client.admin().transferLeadership();
  await waitFor(() => acked.length >= atRotation + 200, 30000, "load after the rotation");
  stop = true;
  await load;

  const read: string[] = [];
  for (let offset = 0; read.length < acked.length; ) {
    const page = await client.consumer().fetch({ topic: "rotating", partition: 0, offset });
    if (page.records.length === 0) break;
    for (const r of page.records) {
      assert.equal(r.offset, offset++, "offsets are dense");
      read.push(r.value.toString());
    }
  }
  assert.deepEqual(read, acked, "every acknowledged record, once, in order");
});
