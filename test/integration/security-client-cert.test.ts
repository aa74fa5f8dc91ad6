// `--require-client-cert` on a real three-node cluster: the client port takes only connections that
// present a certificate of the cluster's CA, refused at the TLS handshake otherwise (a bearer token alone,
// even the superuser's, does not get in, nor does another CA's certificate): the client's call fails
// UNAVAILABLE ("certificate required" when it presented none) and nothing changes; a
// client with a CA-signed certificate is served as the principal its subject names; the nodes still
// reach each other (replication) and each other's client ports (forwarding, with the node certificate).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { createAuthority } from "../../src/cli/dev-certificates";
import { type CallFailure, RawBytesClient, failureOf } from "../support/contract-calls";
import { contractMethods } from "../support/fuzz/contract-methods";
import { clientCertificate, secureMaterial, startSecureCluster, superuserCredentials } from "../support/secure-cluster";

const topic = "certified";

test("with --require-client-cert only clients with a certificate of the CA get in; peers and forwarding still work", async () => {
  const material = await secureMaterial("client-cert");
  const admin = await clientCertificate(material.ca, "admin");
  const { cluster } = await startSecureCluster(
    { extraArgs: ["--require-client-cert"], clientDefaults: { tls: { ca: material.ca.certPem, cert: admin.cert, key: admin.key }, token: undefined } },
    material,
  );
  const leader = await cluster.waitForLeader(20000);
  const superuser = cluster.client();
  await superuser.admin().createTopic({ name: topic, partitions: 1 });
  await superuser.security().addAcl({ principal: "app", operation: "produce", resourceType: "topic", patternType: "literal", name: topic });
  await superuser.security().addAcl({ principal: "app", operation: "consume", resourceType: "topic", patternType: "literal", name: topic });

  // A principal by certificate, through a follower only: its produce is forwarded to the leader.
  const follower = cluster.nodes.find((n) => n.id !== leader);
  assert.ok(follower);
  const appCert = await clientCertificate(material.ca, "app");
  const app = cluster.client({ brokers: [follower.clientAddress], tls: { ca: material.ca.certPem, cert: appCert.cert, key: appCert.key } });
  const placed = await app.producer().send({ topic, partition: 0, records: [{ value: "one" }, { value: "two" }] });
  assert.deepEqual(placed.map((p) => p.offset), [0, 1]);
  for (const node of cluster.nodes) {
    const reader = cluster.client({ brokers: [node.clientAddress], tls: { ca: material.ca.certPem, cert: appCert.cert, key: appCert.key } });
    const page = await reader.consumer().fetch({ topic, partition: 0, offset: 0 });
    assert.deepEqual(page.records.map((r) => r.value.toString()), ["one", "two"], `node ${node.id} serves what was acknowledged`);
  }
  const before = JSON.stringify({ topics: (await superuser.admin().listTopics()).map((t) => t.name), acls: await superuser.security().listAcls() });

  const other = await createAuthority("another cluster");
  const stranger = await clientCertificate(other, "admin");
  const refused: Record<string, grpc.ChannelCredentials> = {
    "no certificate": grpc.credentials.createSsl(Buffer.from(material.ca.certPem)),
    "the superuser's token without a certificate": superuserCredentials(material),
    "another CA's certificate": grpc.credentials.createSsl(Buffer.from(material.ca.certPem), Buffer.from(stranger.key), Buffer.from(stranger.cert)),
  };
  const attempts: { path: string; request: object }[] = [
    { path: "/raftline.v1.Producer/Produce", request: { batches: [{ topic, partition: 0, records: [{ value: Buffer.from("intruder") }] }] } },
    { path: "/raftline.v1.Admin/CreateTopic", request: { name: "made-by-intruder", partitions: 1 } },
  ];
  for (const [who, creds] of Object.entries(refused)) {
    const client: RawBytesClient = new RawBytesClient(follower.clientAddress, creds);
    try {
      for (const { path, request } of attempts) {
        const method = contractMethods().find((m) => m.path === path);
        assert.ok(method, path);
        const failure: CallFailure | undefined = await client.unary(path, method.serialize(request), 5000).then(
          () => undefined,
          (err: unknown) => failureOf(err),
        );
        assert.ok(failure, `${who}: ${path} was accepted`);
        // Refused before any rpc: the connection itself fails, so the client sees UNAVAILABLE.
        assert.equal(failure.code, grpc.status.UNAVAILABLE, `${who}: ${path}: ${grpc.status[failure.code]} ${failure.details}`);
        if (who !== "another CA's certificate") assert.match(failure.details, /certificate required/, who);
      }
    } finally {
      client.close();
    }
  }
  const after = JSON.stringify({ topics: (await superuser.admin().listTopics()).map((t) => t.name), acls: await superuser.security().listAcls() });
  assert.equal(after, before, "refused calls change nothing");
  const page = await app.consumer().fetch({ topic, partition: 0, offset: 0 });
  assert.equal(page.highWatermark, 2);
});
