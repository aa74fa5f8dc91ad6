// SIGKILL the raft leader while a group consumes: the members reconnect to the new leader with the same
// assignment and generation (no partition moves), no committed offset is lost, every record is consumed
// at least once, and the members report how long their session was broken.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { RaftlineClient } from "../../src/client";
import { Cluster, startCluster } from "../support/cluster";
import { RecordingMember } from "../support/group-members";
import { waitFor } from "../support/wait";

const deadlineMs = 30000;
const partitions = 6;

let cluster: Cluster;
let client: RaftlineClient;

before(async () => {
  cluster = await startCluster({ cleanupAfter: false });
  await cluster.waitForLeader(deadlineMs);
  client = cluster.client();
});

after(async () => {
  await cluster?.cleanup();
});

function committedMap(offsets: { topic: string; partition: number; offset: number }[]): Map<number, number> {
  return new Map(offsets.map((o) => [o.partition, o.offset]));
}

test("a leader kill during consumption moves no partition and loses no committed offset; every record is consumed", async (t) => {
  await client.admin().createTopic({ name: "failover", partitions });
  const producer = client.producer();
  const produced = new Set<string>();
  let round = 0;
  const produceRound = async (): Promise<void> => {
    const r = round++;
    for (let p = 0; p < partitions; p++) {
      const records = Array.from({ length: 20 }, (_, i) => ({ value: `${r}-${p}-${i}` }));
      await producer.send({ topic: "failover", partition: p, records });
      for (const rec of records) produced.add(rec.value);
    }
  };
  for (let i = 0; i < 3; i++) await produceRound();
  const members = [0, 1, 2].map(() =>
    new RecordingMember(client, { groupId: "g-failover", sessionTimeoutMs: 3000, autoCommitIntervalMs: 200 }, ["failover"]).start(),
  );
  const consumed = (): Set<string> => new Set(members.flatMap((m) => m.records.map((r) => r.value.toString())));
  await waitFor(() => members.every((m) => m.owned().length === 2) && consumed().size === produced.size, deadlineMs, "a 2/2/2 split consuming everything");
  const groups = client.groups();
  await waitFor(async () => (await groups.fetchOffsets("g-failover")).every((o) => o.offset === 60), deadlineMs, "commits to catch up");
  const owned = members.map((m) => m.owned());
  const committedBefore = committedMap(await groups.fetchOffsets("g-failover"));
  const eventsBefore = members.map((m) => m.events.length);
  const generationsBefore = members.map((m) => m.consumer.generation);

  const leader = await cluster.waitForLeader(deadlineMs);
  await cluster.kill(leader);
  const killedAt = Date.now();
  for (let i = 0; i < 3; i++) await produceRound();
  const producedMs = Date.now() - killedAt;
  await waitFor(() => consumed().size === produced.size, deadlineMs, "every record after the kill to be consumed");
  const caughtUpMs = Date.now() - killedAt;
  await waitFor(() => members.every((m) => m.pauses.length > 0), deadlineMs, "every member to report its pause");

  const committedAfter = committedMap(await groups.fetchOffsets("g-failover"));
  for (const [partition, offset] of committedBefore) {
    assert.ok((committedAfter.get(partition) ?? -1) >= offset, `partition ${partition}: committed ${committedAfter.get(partition)} < ${offset} before the kill`);
  }
  members.forEach((m, i) => {
    assert.deepEqual(m.owned(), owned[i], "no partition moved");
    assert.equal(m.events.length, eventsBefore[i], "no rebalance event");
    assert.equal(m.consumer.generation, generationsBefore[i], "same generation");
  });
  const pauses = members.map((m) => Math.max(...m.pauses));
  t.diagnostic(`leader kill: sessions resumed after ${pauses.join(", ")} ms; records produced after the kill within ${producedMs} ms, all consumed ${caughtUpMs} ms after the kill`);
  await producer.close();
  await Promise.all(members.map((m) => m.close()));
  await cluster.restart(leader);
});

test("a member whose last assignment is older than its retry budget still rejoins after a leader kill", async () => {
  // The session's retry budget starts when the session breaks, not at the last push it received.
  const retryMs = 8000;
  const patient = cluster.client({ retry: { maxRetryTimeMs: retryMs } });
  await patient.admin().createTopic({ name: "long-lived", partitions: 2 });
  const member = new RecordingMember(patient, { groupId: "g-long-lived", sessionTimeoutMs: 3000, autoCommitIntervalMs: 200 }, ["long-lived"]).start();
  let failed: unknown;
  member.running?.catch((err: unknown) => (failed = err));
  await waitFor(() => member.owned().length === 2, deadlineMs, "the member to own both partitions");
  const assignedAt = Date.now();
  await waitFor(() => Date.now() - assignedAt > retryMs, 2 * retryMs, "the assignment to outlive the retry budget", 250);

  const leader = await cluster.waitForLeader(deadlineMs);
  await cluster.kill(leader);
  const producer = patient.producer();
  await producer.send({ topic: "long-lived", partition: 0, records: [{ value: "after the kill" }] });
  await waitFor(() => failed !== undefined || member.records.some((r) => r.value.toString() === "after the kill"), deadlineMs, "the record sent after the kill");
  assert.equal(failed, undefined, `the member gave up: ${String(failed)}`);
  assert.deepEqual(member.owned(), ["long-lived/0", "long-lived/1"], "no partition moved");
  await producer.close();
  await member.close();
  await cluster.restart(leader);
});
