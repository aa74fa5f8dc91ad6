// Work queues across a leader kill: workers stream and accept while the leader is SIGKILLed. No record
// whose acceptance was acknowledged is delivered again, and every record is accepted in the end.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { RaftlineClient } from "../../src/client";
import { Cluster, startCluster } from "../support/cluster";
import { waitFor } from "../support/wait";

const deadlineMs = 60000;
const records = 600;
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

test("SIGKILL the leader mid-stream: no accepted record comes again, every unaccepted one comes later", async () => {
  await client.admin().createTopic({ name: "jobs", partitions: 3 });
  const producer = client.producer();
  await producer.send({ topic: "jobs", records: Array.from({ length: records }, (_, i) => ({ key: `k${i}`, value: `job-${i}` })) });
  await producer.close();

  const acceptedAt = new Map<string, number>();
  const violations: string[] = [];
  const workers = Array.from({ length: 3 }, () => client.queue({ group: "q-jobs", topic: "jobs", config: { lockTimeoutMs: 3000 }, prefetch: 10 }));
  await workers[0].ensure();
  const running = workers.map(async (w) => {
    try {
      for await (const d of w) {
        const key = `${d.partition}/${d.offset}`;
        if (acceptedAt.has(key)) violations.push(`${key} delivered again (count ${d.deliveryCount}) after its acceptance was acknowledged`);
        d.ack().then(
          () => acceptedAt.set(key, Date.now()),
          () => undefined, // not acknowledged: it may come again, which is allowed
        );
      }
    } catch {
      // The loop ends with an error when the queue gives up; the counts below tell.
    }
  });

  await waitFor(() => acceptedAt.size >= records / 3, deadlineMs, "a third of the records accepted");
  const leader = await cluster.waitForLeader(deadlineMs);
  await cluster.kill(leader, "SIGKILL");
  const acceptedAtKill = acceptedAt.size;
  // Acks in flight at the kill may have landed without their answer: the group's own count tells.
  await waitFor(
    async () => {
      const d = await client.shares().describeShareGroup("q-jobs");
      return Number(d.acceptedTotal) === records && d.partitions.every((p) => Number(p.lag) === 0);
    },
    deadlineMs,
    `all ${records} records accepted (${acceptedAtKill} acknowledged at the kill)`,
  );
  await Promise.all(workers.map((w) => w.close()));
  await Promise.race([Promise.all(running), new Promise((r) => setTimeout(r, 1000))]);
  assert.deepEqual(violations, []);
  assert.ok(acceptedAtKill < records, "the kill happened mid-stream");
  assert.ok(acceptedAt.size > acceptedAtKill, "accepted after the kill too");
});
