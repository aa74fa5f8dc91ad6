// Open streams lose what their principal loses: with security on, a Subscribe or Join stream admitted
// under a token and ACLs ends when the ACL it uses is removed (PERMISSION_DENIED naming operation and
// resource) or its token is deleted (UNAUTHENTICATED), on whichever node serves it; a change that does not
// concern it leaves it open and delivering.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import type { RaftlineClient } from "../../src/client";
import type { JoinResponse__Output } from "../../src/generated/raftline/v1/JoinResponse";
import type { Cluster } from "../support/cluster";
import { type RawStubs, rawStubs } from "../support/raw-stubs";
import { type SecureMaterial, startSecureCluster } from "../support/secure-cluster";
import { waitFor } from "../support/wait";

const topic = "watched";
const group = "watchers";
const endDeadlineMs = 15000;

let cluster: Cluster;
let material: SecureMaterial;
let admin: RaftlineClient;
let leader: number;
const opened: RawStubs[] = [];

function tokenCredentials(token: string): grpc.ChannelCredentials {
  const bearer = grpc.credentials.createFromMetadataGenerator((_p, cb) => {
    const md = new grpc.Metadata();
    md.set("authorization", `Bearer ${token}`);
    cb(null, md);
  });
  return grpc.credentials.combineChannelCredentials(grpc.credentials.createSsl(Buffer.from(material.ca.certPem)), bearer);
}

/** What a stream delivered, and how it ended (undefined while open). */
interface Watched {
  received: number;
  ended?: grpc.ServiceError;
}

function watch(call: grpc.ClientReadableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>): Watched {
  const w: Watched = { received: 0 };
  call.on("data", () => w.received++);
  call.on("error", (err: grpc.ServiceError) => (w.ended = err));
  call.on("end", () => (w.ended ??= Object.assign(new Error("ended without a status"), { code: grpc.status.OK, details: "", metadata: new grpc.Metadata() })));
  return w;
}

function subscribe(token: string, nodeId: number): Watched {
  const stubs = rawStubs(cluster.node(nodeId).clientAddress, {}, tokenCredentials(token));
  opened.push(stubs);
  return watch(stubs.consumer.Subscribe({ topic, partition: 0, offset: 0 }));
}

async function ended(w: Watched, what: string): Promise<grpc.ServiceError> {
  return waitFor(() => w.ended, endDeadlineMs, `${what} to end`);
}

function reasonOf(err: grpc.ServiceError): string {
  return String(err.metadata.get("raftline-error-reason")[0] ?? "");
}

async function produce(value: string): Promise<void> {
  await admin.producer().send({ topic, partition: 0, records: [{ value }] });
}

const consume = { operation: "consume", resourceType: "topic", patternType: "literal", name: topic } as const;

before(async () => {
  ({ cluster, material } = await startSecureCluster({ cleanupAfter: false }));
  leader = await cluster.waitForLeader(20000);
  admin = cluster.client();
  await admin.admin().createTopic({ name: topic, partitions: 1 });
  await produce("first");
});

after(async () => {
  for (const s of opened) s.close();
  await cluster.cleanup();
});

test("removing the ACL a Subscribe stream uses ends it with PERMISSION_DENIED on every node; other changes leave it open", async () => {
  const { token } = await admin.security().createToken("reader");
  await admin.security().addAcl({ principal: "reader", ...consume });
  const streams = cluster.nodes.map((n) => subscribe(token, n.id));
  await waitFor(() => streams.every((s) => s.received >= 1), endDeadlineMs, "every stream to deliver the first record");

  // Not about these streams: another principal's ACL, another principal's token.
  await admin.security().addAcl({ principal: "someone-else", ...consume });
  const { id: otherToken } = await admin.security().createToken("someone-else");
  await admin.security().deleteToken(otherToken);
  await produce("second");
  await waitFor(() => streams.every((s) => s.received >= 2), endDeadlineMs, "every stream to deliver the second record");
  assert.ok(streams.every((s) => s.ended === undefined), "unrelated changes end nothing");

  await admin.security().removeAcl({ principal: "reader", ...consume });
  for (const [i, s] of streams.entries()) {
    const err = await ended(s, `node ${cluster.nodes[i].id}'s stream`);
    assert.equal(err.code, grpc.status.PERMISSION_DENIED, err.details);
    assert.equal(reasonOf(err), "ERROR_REASON_NOT_AUTHORIZED");
    assert.match(err.details, /principal "reader" may not consume on topic "watched"/);
  }
});

test("deleting the token a Subscribe stream was opened with ends it with UNAUTHENTICATED", async () => {
  const { id, token } = await admin.security().createToken("holder");
  await admin.security().addAcl({ principal: "holder", ...consume });
  const follower = cluster.nodes.find((n) => n.id !== leader)?.id ?? 0;
  const stream = subscribe(token, follower);
  await waitFor(() => stream.received >= 1, endDeadlineMs, "the stream to deliver");
  await admin.security().deleteToken(id);
  const err = await ended(stream, "the stream");
  assert.equal(err.code, grpc.status.UNAUTHENTICATED, err.details);
  assert.equal(reasonOf(err), "ERROR_REASON_UNAUTHENTICATED");
});

test("removing the group ACL a Join stream uses ends it with PERMISSION_DENIED", async () => {
  const { token } = await admin.security().createToken("member");
  await admin.security().addAcl({ principal: "member", operation: "consume", resourceType: "group", patternType: "literal", name: group });
  const stubs = rawStubs(cluster.node(leader).clientAddress, {}, tokenCredentials(token));
  opened.push(stubs);
  const call = stubs.groups.Join();
  const answers: JoinResponse__Output[] = [];
  call.on("data", (r: JoinResponse__Output) => answers.push(r));
  const stream = watch(call);
  call.write({ join: { groupId: group, topics: [topic], clientId: "member" } });
  await waitFor(() => answers.length >= 1, endDeadlineMs, "the member to join");
  assert.equal(stream.ended, undefined, stream.ended?.details);
  await admin.security().removeAcl({ principal: "member", operation: "consume", resourceType: "group", patternType: "literal", name: group });
  const err = await ended(stream, "the Join stream");
  assert.equal(err.code, grpc.status.PERMISSION_DENIED, err.details);
  assert.match(err.details, /principal "member" may not consume on group "watchers"/);
});
