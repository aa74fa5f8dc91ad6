// A read a follower has to confirm with the leader (ReadIndex) while that leader dies is sent again to
// the next leader, so it is answered once one is elected instead of waiting out the caller's deadline.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { startCluster } from "../support/cluster";
import { rawStubs, unaryCall } from "../support/raw-stubs";
import type { FetchResponse__Output } from "../../src/generated/raftline/v1/FetchResponse";

/** Far longer than an election: a read stuck on the dead leader fails it, one sent again does not. */
const fetchDeadlineMs = 9000;

test("a follower's read barrier survives the leader's death", async () => {
  const cluster = await startCluster();
  const leader = await cluster.waitForLeader(15000);
  const leaderStubs = rawStubs(cluster.node(leader).clientAddress);
  const follower = cluster.nodes.find((n) => n.id !== leader);
  assert.ok(follower);
  const followerStubs = rawStubs(follower.clientAddress);
  after(() => {
    leaderStubs.close();
    followerStubs.close();
  });
  await unaryCall((o, cb) => leaderStubs.admin.CreateTopic({ name: "reads", partitions: 1 }, new grpc.Metadata(), o, cb));
  await unaryCall((o, cb) =>
    leaderStubs.producer.Produce({ batches: [{ topic: "reads", partition: 0, records: [{ value: Buffer.from("x") }] }] }, new grpc.Metadata(), o, cb),
  );

  await cluster.kill(leader);
  const started = Date.now();
  // Nothing at offset 1 yet: the follower confirms with the leader it still believes in before answering.
  const res = await unaryCall<FetchResponse__Output>(
    (o, cb) => followerStubs.consumer.Fetch({ topic: "reads", partition: 0, offset: 1, maxBytes: 1024, minBytes: 0 }, new grpc.Metadata(), o, cb),
    fetchDeadlineMs,
  );
  console.log(`# answered ${Date.now() - started} ms after the leader died`);
  assert.equal(res.records.length, 0);
  assert.equal(Number(res.highWatermark), 1);
});
