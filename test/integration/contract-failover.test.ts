// Failover and shutdown, as a generated client sees them: every refusal carries a reason, and a write whose
// fate is unknown says so (UNAVAILABLE + OUTCOME_UNKNOWN) instead of passing for "not written".
import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { startCluster } from "../support/cluster";
import { CallFailure, failureOf } from "../support/contract-calls";
import { rawStubs, unaryCall } from "../support/raw-stubs";
import { waitFor } from "../support/wait";
import type { ProduceResponse__Output } from "../../src/generated/raftline/v1/ProduceResponse";
import type { DescribeClusterResponse__Output } from "../../src/generated/raftline/v1/DescribeClusterResponse";
import type { CreateTopicResponse__Output } from "../../src/generated/raftline/v1/CreateTopicResponse";

const retriableReasons = new Set(["ERROR_REASON_NOT_LEADER", "ERROR_REASON_NO_QUORUM", "ERROR_REASON_LEADER_TRANSFER", "ERROR_REASON_OUTCOME_UNKNOWN"]);

function settle<T>(p: Promise<T>): Promise<{ ok: T } | { failed: CallFailure }> {
  return p.then(
    (ok) => ({ ok }),
    (err: unknown) => ({ failed: failureOf(err) }),
  );
}

test("a leader killed mid-forward: the follower answers OUTCOME_UNKNOWN; refusals during the election carry a reason", async () => {
  const cluster = await startCluster({ nodes: 3 });
  const leader = await cluster.waitForLeader(15000);
  const [f1, f2] = cluster.nodes.map((n) => n.id).filter((id) => id !== leader);
  const s1 = rawStubs(cluster.node(f1).clientAddress);
  const s2 = rawStubs(cluster.node(f2).clientAddress);
  try {
    const record = { value: Buffer.from("x") };
    await unaryCall<CreateTopicResponse__Output>((o, cb) => s1.admin.CreateTopic({ name: "t", partitions: 1 }, new grpc.Metadata(), o, cb));
    // The follower's forward connection to the leader is up; now the leader hangs with the call sent to it.
    await unaryCall((o, cb) => s1.producer.Produce({ batches: [{ topic: "t", partition: 0, records: [record] }] }, new grpc.Metadata(), o, cb));
    cluster.pause(leader);
    const inFlight = settle(
      unaryCall<ProduceResponse__Output>((o, cb) => s1.producer.Produce({ batches: [{ topic: "t", partition: 0, records: [record] }] }, new grpc.Metadata(), o, cb), 30000),
    );
    // Give the forward time to leave the follower: its answer must then be "unknown", never "not written".
    await waitFor(() => cluster.node(leader).paused, 1000);
    await new Promise((r) => setImmediate(r));
    await cluster.kill(leader);
    const answer = await inFlight;
    assert.ok("failed" in answer, "the produce cannot have succeeded through a dead leader");
    assert.equal(answer.failed.code, grpc.status.UNAVAILABLE, answer.failed.details);
    assert.equal(answer.failed.reason, "ERROR_REASON_OUTCOME_UNKNOWN", `forward broken after sending: ${answer.failed.details}`);

    // Until a new leader takes over, both survivors refuse with a reason clients can act on.
    const failures: CallFailure[] = [];
    await waitFor(
      async () => {
        const results = await Promise.all(
          [s1, s2].map((s) =>
            settle(unaryCall((o, cb) => s.producer.Produce({ batches: [{ topic: "t", partition: 0, records: [record] }] }, new grpc.Metadata(), o, cb), 5000)),
          ),
        );
        for (const r of results) if ("failed" in r) failures.push(r.failed);
        return results.every((r) => "ok" in r);
      },
      30000,
      "a new leader to take writes",
    );
    for (const f of failures) {
      assert.ok(f.code === grpc.status.UNAVAILABLE || f.code === grpc.status.DEADLINE_EXCEEDED, `${f.code} ${f.details}`);
      if (f.code === grpc.status.UNAVAILABLE) assert.ok(retriableReasons.has(f.reason), `UNAVAILABLE with reason "${f.reason}": ${f.details}`);
    }
  } finally {
    s1.close();
    s2.close();
  }
});

test("a write in the leader's log when it shuts down is answered OUTCOME_UNKNOWN, not NOT_LEADER", async () => {
  const cluster = await startCluster({ nodes: 3 });
  const leader = await cluster.waitForLeader(15000);
  const s = rawStubs(cluster.node(leader).clientAddress);
  try {
    await unaryCall<CreateTopicResponse__Output>((o, cb) => s.admin.CreateTopic({ name: "t", partitions: 1 }, new grpc.Metadata(), o, cb));
    const followers = cluster.nodes.map((n) => n.id).filter((id) => id !== leader);
    // With both followers frozen the write enters the leader's log and cannot commit.
    for (const id of followers) cluster.pause(id);
    const inFlight = settle(
      unaryCall<ProduceResponse__Output>((o, cb) => s.producer.Produce({ batches: [{ topic: "t", partition: 0, records: [{ value: Buffer.from("x") }] }] }, new grpc.Metadata(), o, cb), 30000),
    );
    // The write is in the leader's log once the frozen followers' lag shows it.
    await waitFor(
      async () => {
        const d = await unaryCall<DescribeClusterResponse__Output>((o, cb) => s.admin.DescribeCluster({}, new grpc.Metadata(), o, cb));
        return d.nodes.some((n) => n.id !== leader && Number(n.lag ?? 0) > 0);
      },
      10000,
      "the write to enter the leader's log",
    );
    const stopped = cluster.stop(leader);
    const answer = await inFlight;
    for (const id of followers) cluster.resume(id);
    await stopped;
    assert.ok("failed" in answer);
    assert.equal(answer.failed.code, grpc.status.UNAVAILABLE, answer.failed.details);
    assert.equal(answer.failed.reason, "ERROR_REASON_OUTCOME_UNKNOWN", answer.failed.details);
  } finally {
    s.close();
  }
});
