// Consumer groups on a real three-node cluster: members share a topic's partitions, hand them on when
// one leaves or dies, a static member comes back to its own, a leader kill moves nothing, commits are
// fenced, lag is what remains unread, and bad inputs get their documented statuses.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import type { RaftlineClient } from "../../src/client";
import type { DescribeGroupResponse__Output } from "../../src/generated/raftline/v1/DescribeGroupResponse";
import { Cluster, startCluster } from "../support/cluster";
import { RawMember, RecordingMember } from "../support/group-members";
import { RawStubs, expectError, rawStubs, unaryCall } from "../support/raw-stubs";
import { waitFor } from "../support/wait";

const sessionTimeoutMs = 3000;
const deadlineMs = 20000;

let cluster: Cluster;
let client: RaftlineClient;
let stubs: RawStubs;

before(async () => {
  cluster = await startCluster({ cleanupAfter: false });
  await cluster.waitForLeader(deadlineMs);
  client = cluster.client();
  stubs = rawStubs(cluster.node(await cluster.waitForLeader(deadlineMs)).clientAddress);
});

after(async () => {
  stubs?.close();
  await cluster?.cleanup();
});

async function produce(topic: string, partitions: number, perPartition: number, tag = "r"): Promise<string[]> {
  const producer = client.producer();
  const values: string[] = [];
  for (let p = 0; p < partitions; p++) {
    const records = Array.from({ length: perPartition }, (_, i) => ({ value: `${tag}-${p}-${i}` }));
    values.push(...records.map((r) => r.value));
    await producer.send({ topic, partition: p, records });
  }
  await producer.close();
  return values;
}

function member(groupId: string, topic: string, extra: { instanceId?: string } = {}): RecordingMember {
  return new RecordingMember(client, { groupId, sessionTimeoutMs, autoCommitIntervalMs: 200, ...extra }, [topic]).start();
}

function describeGroup(groupId: string, on: RawStubs = stubs): Promise<DescribeGroupResponse__Output> {
  return unaryCall((o, cb) => on.groups.DescribeGroup({ groupId }, new grpc.Metadata(), o, cb));
}

function reasonOf(err: grpc.ServiceError): string {
  return String(err.metadata.get("raftline-error-reason")[0]);
}

function disjoint(members: RecordingMember[]): boolean {
  const all = members.flatMap((m) => m.owned());
  return new Set(all).size === all.length;
}

describe("consumer groups", () => {
  test("three members over six partitions split them 2/2/2, and a leaving member's partitions move within a second", async () => {
    await client.admin().createTopic({ name: "split", partitions: 6 });
    const members = [member("g-split", "split"), member("g-split", "split"), member("g-split", "split")];
    await waitFor(() => members.every((m) => m.owned().length === 2) && disjoint(members), deadlineMs, "a 2/2/2 split");
    const stayers = members.slice(1);
    const before = stayers.map((m) => m.owned());
    const revokedBefore = stayers.map((m) => m.count("partitionsRevoked"));
    const leftAt = Date.now();
    await members[0].close();
    await waitFor(() => stayers.every((m) => m.owned().length === 3) && disjoint(stayers), deadlineMs, "the leaver's partitions to move");
    const movedInMs = Date.now() - leftAt;
    assert.ok(movedInMs < 1000, `partitions moved in ${movedInMs} ms`);
    stayers.forEach((m, i) => {
      assert.ok(before[i].every((p) => m.owned().includes(p)), "the others kept their partitions");
      assert.equal(m.count("partitionsRevoked"), revokedBefore[i], "the others were never revoked anything");
    });
    await Promise.all(stayers.map((m) => m.close()));
  });

  test("a member that vanishes without leaving loses its partitions after its session timeout, not before", async () => {
    await client.admin().createTopic({ name: "crash", partitions: 4 });
    const stayer = member("g-crash", "crash");
    await waitFor(() => stayer.owned().length === 4, deadlineMs, "the first member to own everything");
    const raw = new RawMember(stubs, { groupId: "g-crash", topics: ["crash"], sessionTimeoutMs, clientId: "raw" });
    await waitFor(() => (raw.latest?.assigned.length ?? 0) > 0 && stayer.owned().length === 2, deadlineMs, "the raw member to get its share");
    const vanishedAt = Date.now();
    raw.vanish();
    await waitFor(() => stayer.owned().length === 4, deadlineMs, "the vanished member's partitions to come back");
    const tookMs = Date.now() - vanishedAt;
    assert.ok(tookMs >= sessionTimeoutMs - 250, `moved after ${tookMs} ms, before the ${sessionTimeoutMs} ms session timeout`);
    await stayer.close();
  });

  test("a member that keeps heartbeating but never releases revoked partitions is removed after its session timeout", async () => {
    await client.admin().createTopic({ name: "stuck", partitions: 2 });
    const raw = new RawMember(stubs, { groupId: "g-stuck", topics: ["stuck"], sessionTimeoutMs, clientId: "raw" });
    await waitFor(() => raw.latest?.assigned.length === 1 && raw.latest.assigned[0].partitions.length === 2, deadlineMs, "the raw member to own both");
    const joinedAt = Date.now();
    const sdk = member("g-stuck", "stuck");
    await waitFor(() => (raw.latest?.revoking.length ?? 0) > 0, deadlineMs, "a revocation");
    assert.equal(sdk.owned().length, 0, "nothing is handed over before it is released");
    await waitFor(() => sdk.owned().length === 2, deadlineMs, "the stuck member to be removed");
    assert.ok(Date.now() - joinedAt >= sessionTimeoutMs - 250, "removed only after the session timeout");
    const err = await waitFor(() => raw.error, deadlineMs, "the stuck member's stream to end");
    assert.equal(reasonOf(err), "ERROR_REASON_UNKNOWN_MEMBER");
    await sdk.close();
  });

  test("a static member back within its session timeout gets the same partitions, and nobody else notices", async () => {
    await client.admin().createTopic({ name: "static", partitions: 4 });
    const other = member("g-static", "static");
    let first = member("g-static", "static", { instanceId: "host-1" });
    await waitFor(() => other.owned().length === 2 && first.owned().length === 2, deadlineMs, "a 2/2 split");
    const owned = first.owned();
    const generation = (await describeGroup("g-static")).generation;
    const otherEvents = other.events.length;
    await first.close();
    first = member("g-static", "static", { instanceId: "host-1" });
    await waitFor(() => first.owned().length === 2, deadlineMs, "the static member to be back");
    assert.deepEqual(first.owned(), owned);
    const after = await describeGroup("g-static");
    assert.equal(after.generation, generation, "no rebalance");
    assert.equal(after.members.length, 2);
    assert.equal(other.events.length, otherEvents, "the other member saw no rebalance");
    await Promise.all([other.close(), first.close()]);
  });

  test("commits are fenced, and DescribeGroup's lag is what remains unread", async () => {
    await client.admin().createTopic({ name: "fence", partitions: 1 });
    await produce("fence", 1, 10);
    const raw = new RawMember(stubs, { groupId: "g-fence", topics: ["fence"], sessionTimeoutMs, clientId: "raw" });
    const a = await waitFor(() => (raw.latest?.assigned.length ? raw.latest : undefined), deadlineMs, "an assignment");
    const commit = (generation: number, offset: number): Promise<unknown> =>
      unaryCall((o, cb) =>
        stubs.groups.CommitOffsets({ groupId: "g-fence", memberId: a.memberId, generation, offsets: [{ topic: "fence", partition: 0, offset }] }, new grpc.Metadata(), o, cb),
      );
    await commit(a.generation, 4);
    let err = await expectError(commit(a.generation - 1, 5));
    assert.equal(err.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(reasonOf(err), "ERROR_REASON_STALE_GENERATION");
    err = await expectError(commit(a.generation, 3));
    assert.equal(reasonOf(err), "ERROR_REASON_OFFSET_BEHIND_COMMITTED");
    err = await expectError(commit(a.generation, 11));
    assert.equal(err.code, grpc.status.OUT_OF_RANGE);
    err = await expectError(commit(a.generation, -1));
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(reasonOf(err), "ERROR_REASON_INVALID_FIELD");
    const described = await describeGroup("g-fence");
    assert.equal(described.partitions[0].committedOffset, 4);
    assert.equal(described.partitions[0].lag, 6);
    assert.equal(described.partitions[0].owner, a.memberId);
    raw.send({ leave: {} });
    await waitFor(async () => (await describeGroup("g-fence")).members.length === 0, deadlineMs, "the member to leave");
    err = await expectError(commit(a.generation, 5));
    assert.equal(reasonOf(err), "ERROR_REASON_UNKNOWN_MEMBER");
  });

  test("an SDK member's lag falls to what it has not consumed; reset (dry run first) and delete need an empty group", async () => {
    await client.admin().createTopic({ name: "lag", partitions: 2 });
    await produce("lag", 2, 20);
    const m = member("g-lag", "lag");
    await waitFor(() => m.records.length === 40, deadlineMs, "all 40 records");
    await m.close();
    assert.deepEqual((await describeGroup("g-lag")).partitions.map((p) => p.lag), [0, 0]);
    await produce("lag", 2, 5, "more");
    assert.deepEqual((await describeGroup("g-lag")).partitions.map((p) => p.lag), [5, 5]);
    const groups = client.groups();
    const dry = await groups.resetOffsets({ groupId: "g-lag", topic: "lag", to: { earliest: true }, dryRun: true });
    assert.deepEqual(dry.map((o) => o.offset), [0, 0]);
    assert.deepEqual((await groups.fetchOffsets("g-lag")).map((o) => o.offset), [20, 20], "a dry run changes nothing");
    await groups.resetOffsets({ groupId: "g-lag", topic: "lag", partitions: [1], to: { offset: 10 } });
    assert.deepEqual((await groups.fetchOffsets("g-lag")).map((o) => o.offset), [20, 10]);
    assert.ok((await groups.listGroups()).some((g) => g.groupId === "g-lag" && g.state === "GROUP_STATE_EMPTY"));
    await groups.deleteGroup("g-lag");
    const err = await expectError(describeGroup("g-lag"));
    assert.equal(err.code, grpc.status.NOT_FOUND);
    assert.equal(reasonOf(err), "ERROR_REASON_UNKNOWN_GROUP");
  });

  test("bad inputs get their documented statuses", async () => {
    await client.admin().createTopic({ name: "bad", partitions: 1 });
    const joinError = async (join: ConstructorParameters<typeof RawMember>[1]): Promise<grpc.ServiceError> => {
      const raw = new RawMember(stubs, join);
      return waitFor(() => raw.error, deadlineMs, "the join to fail");
    };
    let err = await joinError({ groupId: "g-bad", topics: ["no-such-topic"], sessionTimeoutMs });
    assert.equal(err.code, grpc.status.NOT_FOUND);
    assert.equal(reasonOf(err), "ERROR_REASON_UNKNOWN_TOPIC");
    err = await joinError({ groupId: "g-bad", topics: ["bad"], sessionTimeoutMs: 10 });
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(reasonOf(err), "ERROR_REASON_INVALID_SESSION_TIMEOUT");
    err = await joinError({ groupId: "g-bad", topics: ["bad"], sessionTimeoutMs: 1_000_000_000 });
    assert.equal(reasonOf(err), "ERROR_REASON_INVALID_SESSION_TIMEOUT");
    err = await joinError({ groupId: "no spaces", topics: ["bad"], sessionTimeoutMs });
    assert.equal(reasonOf(err), "ERROR_REASON_INVALID_GROUP_ID");
    err = await joinError({ groupId: "g-bad", topics: ["bad"], sessionTimeoutMs, memberId: "never-joined" });
    assert.equal(err.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(reasonOf(err), "ERROR_REASON_UNKNOWN_MEMBER");
    const first = new RawMember(stubs, { groupId: "g-bad", topics: ["bad"], sessionTimeoutMs });
    const a = await waitFor(() => first.latest, deadlineMs, "an assignment");
    err = await joinError({ groupId: "g-bad", topics: ["bad"], sessionTimeoutMs, memberId: a.memberId });
    assert.equal(err.code, grpc.status.ALREADY_EXISTS);
    assert.equal(reasonOf(err), "ERROR_REASON_MEMBER_ALREADY_JOINED");
    err = await expectError(unaryCall((o, cb) => stubs.groups.DeleteGroup({ groupId: "g-bad" }, new grpc.Metadata(), o, cb)));
    assert.equal(reasonOf(err), "ERROR_REASON_GROUP_NOT_EMPTY");
    err = await expectError(unaryCall((o, cb) => stubs.groups.FetchOffsets({ groupId: "g-unknown", topic: "" }, new grpc.Metadata(), o, cb)));
    assert.equal(err.code, grpc.status.NOT_FOUND);
    assert.equal(reasonOf(err), "ERROR_REASON_UNKNOWN_GROUP");
    first.send({ leave: {} });
  });

  test("a follower forwards the unary calls and refuses Join with the leader hint", async () => {
    const leader = await cluster.waitForLeader(deadlineMs);
    const follower = cluster.nodes.find((n) => n.id !== leader);
    assert.ok(follower);
    const onFollower = rawStubs(follower.clientAddress);
    try {
      await unaryCall((o, cb) => onFollower.groups.ListGroups({}, new grpc.Metadata(), o, cb));
      const raw = new RawMember(onFollower, { groupId: "g-follower", topics: ["bad"], sessionTimeoutMs });
      const err = await waitFor(() => raw.error, deadlineMs, "the join to be refused");
      assert.equal(err.code, grpc.status.UNAVAILABLE);
      assert.equal(reasonOf(err), "ERROR_REASON_NOT_LEADER");
      assert.equal(String(err.metadata.get("raftline-leader-address")[0]), cluster.node(leader).clientAddress);
    } finally {
      onFollower.close();
    }
  });
});
