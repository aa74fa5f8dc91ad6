// Security on a real three-node cluster: every rpc refuses a caller without credentials, with a wrong
// token or with a certificate of another CA (UNAUTHENTICATED), and a principal without the permission
// (PERMISSION_DENIED naming operation and resource), and none of those calls changes anything; a
// principal with prefix ACLs reaches exactly its topics, by token or by certificate, through any node.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { RaftlineClient, RaftlineError } from "../../src/client";
import { createAuthority } from "../../src/cli/dev-certificates";
import { rpcAccess } from "../../src/server/security/rpc-access";
import type { Cluster } from "../support/cluster";
import { RawBytesClient, failureOf } from "../support/contract-calls";
import { contractMethods } from "../support/fuzz/contract-methods";
import { type SecureMaterial, clientCertificate, startSecureCluster } from "../support/secure-cluster";

const deadlineMs = 5000;

/** A request for each rpc that names real resources, so an authorized caller would change something. */
const samples: Record<string, object> = {
  "/raftline.v1.Producer/Produce": { batches: [{ topic: "guarded", partition: 0, records: [{ value: Buffer.from("x") }] }] },
  "/raftline.v1.Producer/ProduceStream": { correlationId: 1, batches: [{ topic: "guarded", partition: 0, records: [{ value: Buffer.from("x") }] }] },
  "/raftline.v1.Consumer/Fetch": { topic: "guarded", partition: 0, offset: 0 },
  "/raftline.v1.Consumer/Subscribe": { topic: "guarded", partition: 0, offset: 0 },
  "/raftline.v1.Admin/CreateTopic": { name: "made-by-intruder", partitions: 1 },
  "/raftline.v1.Admin/DeleteTopic": { name: "guarded" },
  "/raftline.v1.Admin/DescribeTopic": { name: "guarded" },
  "/raftline.v1.Admin/TransferLeadership": { toNodeId: 0 },
  "/raftline.v1.Admin/AddNode": { nodeId: 9, clientAddress: "127.0.0.1:1", peerAddress: "127.0.0.1:2" },
  "/raftline.v1.Admin/RemoveNode": { nodeId: 3 },
  "/raftline.v1.Admin/ReplaceNode": { nodeId: 3 },
  "/raftline.v1.Admin/PromoteLearner": { nodeId: 3 },
  "/raftline.v1.Admin/AddAcl": { acl: { principal: "intruder", operation: "ACL_OPERATION_ALL", resourceType: "RESOURCE_TYPE_CLUSTER", patternType: "PATTERN_TYPE_LITERAL" } },
  "/raftline.v1.Admin/RemoveAcl": { acl: { principal: "team-a", operation: "ACL_OPERATION_PRODUCE", resourceType: "RESOURCE_TYPE_TOPIC", patternType: "PATTERN_TYPE_PREFIX", resourceName: "a-" } },
  "/raftline.v1.Admin/CreateToken": { principal: "intruder" },
  "/raftline.v1.Admin/DeleteToken": { tokenId: "0000000000000000" },
  "/raftline.v1.ConsumerGroups/Join": { join: { groupId: "guarded-group", topics: ["guarded"] } },
  "/raftline.v1.ConsumerGroups/CommitOffsets": { groupId: "guarded-group", memberId: "m", generation: 1, offsets: [{ topic: "guarded", partition: 0, offset: 1 }] },
  "/raftline.v1.ConsumerGroups/FetchOffsets": { groupId: "guarded-group", topic: "guarded" },
  "/raftline.v1.ConsumerGroups/DescribeGroup": { groupId: "guarded-group" },
  "/raftline.v1.ConsumerGroups/DeleteGroup": { groupId: "guarded-group" },
  "/raftline.v1.ConsumerGroups/ResetOffsets": { groupId: "guarded-group", topic: "guarded", earliest: true },
  "/raftline.v1.ShareGroups/CreateShareGroup": { groupId: "guarded-queue", topic: "guarded" },
  "/raftline.v1.ShareGroups/Receive": { open: { groupId: "guarded-queue" } },
  "/raftline.v1.ShareGroups/Pop": { groupId: "guarded-queue", maxRecords: 1 },
  "/raftline.v1.ShareGroups/Ack": { groupId: "guarded-queue", acks: [{ partition: 0, offset: 0, type: "ACK_TYPE_ACCEPT" }] },
  "/raftline.v1.ShareGroups/DescribeShareGroup": { groupId: "guarded-queue" },
};

let cluster: Cluster;
let material: SecureMaterial;
let admin: RaftlineClient;

/** Everything a refused call must leave as it was. */
async function stateSnapshot(): Promise<string> {
  const s = admin.security();
  const topics = await admin.admin().listTopics();
  const guarded = await admin.admin().describeTopic("guarded");
  const groups = await admin.groups().listGroups();
  const cluster = await admin.admin().describeCluster();
  return JSON.stringify({
    topics: topics.map((t) => t.name),
    offsets: guarded.partitions.map((p) => p.highWatermark),
    groups: groups.map((g) => g.groupId),
    acls: await s.listAcls(),
    tokens: (await s.listTokens()).map((t) => t.id),
    voters: cluster.nodes.map((n) => `${n.id}:${n.voter}`),
  });
}

async function callOnce(client: RawBytesClient, path: string): Promise<ReturnType<typeof failureOf> | "ok"> {
  const method = contractMethods().find((m) => m.path === path);
  assert.ok(method, path);
  const bytes = method.serialize(samples[path] ?? {});
  try {
    if (method.requestStream) await client.bidi(path, [bytes], deadlineMs);
    else if (method.responseStream) await client.serverStream(path, bytes, deadlineMs, 1);
    else await client.unary(path, bytes, deadlineMs);
    return "ok";
  } catch (err) {
    return failureOf(err);
  }
}

function tokenCredentials(token: string): grpc.ChannelCredentials {
  const bearer = grpc.credentials.createFromMetadataGenerator((_p, cb) => {
    const md = new grpc.Metadata();
    md.set("authorization", `Bearer ${token}`);
    cb(null, md);
  });
  return grpc.credentials.combineChannelCredentials(grpc.credentials.createSsl(Buffer.from(material.ca.certPem)), bearer);
}

before(async () => {
  ({ cluster, material } = await startSecureCluster({ cleanupAfter: false }));
  await cluster.waitForLeader(20000);
  admin = cluster.client();
  await admin.admin().createTopic({ name: "guarded", partitions: 1 });
  await admin.producer().send({ topic: "guarded", records: [{ value: "first" }] });
  await admin.security().addAcl({ principal: "team-a", operation: "produce", resourceType: "topic", patternType: "prefix", name: "a-" });
});

after(() => cluster.cleanup());

describe("refused callers change nothing", () => {
  test("no credentials, a wrong token, a certificate of another CA: UNAUTHENTICATED on every rpc, in the same words", async () => {
    const before = await stateSnapshot();
    const other = await createAuthority("another cluster");
    const stranger = await clientCertificate(other, "admin");
    const callers: Record<string, grpc.ChannelCredentials> = {
      "no credentials": grpc.credentials.createSsl(Buffer.from(material.ca.certPem)),
      "wrong token": tokenCredentials("not-a-token-of-this-cluster"),
      "malformed token": tokenCredentials("x"),
      "another CA's certificate": grpc.credentials.createSsl(Buffer.from(material.ca.certPem), Buffer.from(stranger.key), Buffer.from(stranger.cert)),
    };
    const messages = new Set<string>();
    for (const [who, creds] of Object.entries(callers)) {
      for (const node of cluster.nodes) {
        const client = new RawBytesClient(node.clientAddress, creds);
        try {
          for (const m of contractMethods()) {
            const answer = await callOnce(client, m.path);
            assert.notEqual(answer, "ok", `${who}: ${m.path} on node ${node.id} was accepted`);
            if (answer === "ok") continue;
            assert.equal(answer.code, grpc.status.UNAUTHENTICATED, `${who}: ${m.path} on node ${node.id}: ${grpc.status[answer.code]} ${answer.details}`);
            assert.equal(answer.reason, "ERROR_REASON_UNAUTHENTICATED");
            messages.add(answer.details);
          }
        } finally {
          client.close();
        }
      }
    }
    assert.equal(messages.size, 1, `one message for every failure, got ${[...messages].join(" | ")}`);
    assert.equal(await stateSnapshot(), before);
  });

  test("a principal without the permission: PERMISSION_DENIED naming operation and resource, on every rpc", async () => {
    const { token } = await admin.security().createToken("nobody");
    const before = await stateSnapshot();
    const client = new RawBytesClient(cluster.nodes[1].clientAddress, tokenCredentials(token));
    try {
      for (const m of contractMethods()) {
        const need = rpcAccess[m.path];
        assert.ok(need, `${m.path} has an access rule`);
        if (need.kind === "authenticated") continue;
        const answer = await callOnce(client, m.path);
        assert.notEqual(answer, "ok", `${m.path} was accepted`);
        if (answer === "ok") continue;
        assert.equal(answer.code, grpc.status.PERMISSION_DENIED, `${m.path}: ${grpc.status[answer.code]} ${answer.details}`);
        assert.equal(answer.reason, "ERROR_REASON_NOT_AUTHORIZED");
        const [access] = need.of(m.deserializeRequest(m.serialize(samples[m.path] ?? {})));
        assert.ok(answer.details.includes(access.operation), `${m.path}: "${answer.details}" names ${access.operation}`);
        if (access.name) assert.ok(answer.details.includes(access.name), `${m.path}: "${answer.details}" names ${access.name}`);
      }
    } finally {
      client.close();
    }
    assert.equal(await stateSnapshot(), before);
  });
});

describe("prefix permissions", () => {
  test("a principal with ACLs on prefix a- reaches exactly its topics, by token and by certificate, through every node", async () => {
    const s = admin.security();
    for (const operation of ["create", "consume", "describe"] as const) {
      await s.addAcl({ principal: "team-a", operation, resourceType: "topic", patternType: "prefix", name: "a-" });
    }
    await admin.admin().createTopic({ name: "b-orders", partitions: 1 });
    const { token } = await s.createToken("team-a");
    const cert = await clientCertificate(material.ca, "team-a");
    const ways: Record<string, RaftlineClient> = {
      token: cluster.client({ tls: { ca: material.ca.certPem }, token }),
      certificate: cluster.client({ tls: { ca: material.ca.certPem, cert: cert.cert, key: cert.key }, token: undefined }),
    };
    for (const [way, client] of Object.entries(ways)) {
      assert.equal((await client.security().whoAmI()).principal, "team-a", way);
      const topic = `a-${way}`;
      await client.admin().createTopic({ name: topic, partitions: 1 });
      const placed = await client.producer().send({ topic, records: [{ value: "mine" }] });
      assert.equal(placed[0].offset, 0);
      const { records } = await client.consumer().fetch({ topic, partition: 0, offset: 0 });
      assert.deepEqual(records.map((r) => r.value.toString()), ["mine"]);
      const denied = async (what: string, run: () => Promise<unknown>, needs: RegExp): Promise<void> => {
        const err = await run().then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof RaftlineError, `${way}: ${what} was allowed`);
        assert.equal(err.codeName, "PERMISSION_DENIED", `${way}: ${what}: ${err.message}`);
        assert.match(err.message, needs);
      };
      await denied("create b-", () => client.admin().createTopic({ name: `b-${way}`, partitions: 1 }), /create on topic "b-/);
      await denied("produce to b-orders", () => client.producer({ retry: { maxAttempts: 1 } }).send({ topic: "b-orders", records: [{ value: "x" }] }), /produce on topic "b-orders"/);
      await denied("fetch b-orders", () => client.consumer().fetch({ topic: "b-orders", partition: 0, offset: 0 }), /consume on topic "b-orders"/);
      await denied("delete its own topic", () => client.admin().deleteTopic(topic), /delete on topic "a-/);
      await denied("list ACLs", () => client.security().listAcls(), /describe on the cluster/);
    }
    // Through each node directly: followers forward writes under the caller's principal.
    for (const node of cluster.nodes) {
      const direct = new RaftlineClient({ brokers: [node.clientAddress], tls: { ca: material.ca.certPem }, token });
      try {
        await direct.producer({ idempotent: false }).send({ topic: "a-token", records: [{ value: `via ${node.id}` }] });
      } finally {
        await direct.close({ flush: false });
      }
    }
    const all = await admin.consumer().fetch({ topic: "a-token", partition: 0, offset: 0 });
    assert.equal(all.records.length, 4);
  });
});
