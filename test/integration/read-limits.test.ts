// What one client may cost a node is set by the node's configuration: Fetch and Subscribe answers are
// clamped to the node's ceiling, long polls and Subscribe streams are counted and refused past their caps,
// slow subscribers hold at most their byte budget, frozen clients are reaped by keepalive, and the raft
// log is compacted by bytes so that a follower that fell behind catches up from a snapshot.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { Cluster, startCluster } from "../support/cluster";
import { RawStubs, rawStubs, unaryCall } from "../support/raw-stubs";
import { StalledSubscribers } from "../support/stalled-subscriber";
import { waitFor } from "../support/wait";
import type { FetchResponse__Output } from "../../src/generated/raftline/v1/FetchResponse";
import type { SubscribeResponse__Output } from "../../src/generated/raftline/v1/SubscribeResponse";
import type { ProduceResponse__Output } from "../../src/generated/raftline/v1/ProduceResponse";

const electionDeadlineMs = 15000;
const fetchCeilingBytes = 64 * 1024;
const streamBudgetBytes = 128 * 1024;
const nodeBudgetBytes = 256 * 1024;
const maxStreams = 4;
const maxLongPolls = 2;
const snapshotBytes = 256 * 1024;
const recordBytes = 4096;

let cluster: Cluster;
let leader: number;
const stubs = new Map<number, RawStubs>();
const on = (id: number): RawStubs => {
  let s = stubs.get(id);
  if (!s) {
    s = rawStubs(cluster.node(id).clientAddress);
    stubs.set(id, s);
  }
  return s;
};
const followers = (): number[] => cluster.nodes.map((n) => n.id).filter((id) => id !== leader);

function reasonOf(err: grpc.ServiceError): unknown {
  return err.metadata?.get("raftline-error-reason")[0];
}

function fetch(id: number, req: { topic: string; partition?: number; offset: number; maxBytes?: number; minBytes?: number; maxWaitMs?: number }, timeoutMs = 10000) {
  const c = on(id).consumer;
  return unaryCall<FetchResponse__Output>((opts, cb) => c.Fetch({ partition: 0, ...req }, new grpc.Metadata(), opts, cb), timeoutMs);
}

async function createTopic(name: string): Promise<void> {
  const a = on(leader).admin;
  await unaryCall((opts, cb) => a.CreateTopic({ name, partitions: 1 }, new grpc.Metadata(), opts, cb));
}

/** Appends `count` records of recordBytes to partition 0, `perRequest` at a time. */
async function fill(topic: string, count: number, perRequest = 16): Promise<void> {
  const p = on(leader).producer;
  for (let done = 0; done < count; done += perRequest) {
    const n = Math.min(perRequest, count - done);
    const records = Array.from({ length: n }, (_, k) => ({ value: Buffer.alloc(recordBytes, (done + k) % 251) }));
    await unaryCall<ProduceResponse__Output>((opts, cb) => p.Produce({ batches: [{ topic, partition: 0, records }] }, new grpc.Metadata(), opts, cb));
  }
}

function subscribeOutcome(id: number, topic: string): { stream: grpc.ClientReadableStream<SubscribeResponse__Output>; outcome: Promise<"admitted" | grpc.ServiceError> } {
  const stream = on(id).consumer.Subscribe({ topic, partition: 0, position: "START_POSITION_LATEST" });
  const outcome = new Promise<"admitted" | grpc.ServiceError>((resolve) => {
    stream.once("metadata", () => resolve("admitted"));
    stream.once("error", (err: grpc.ServiceError) => resolve(err));
  });
  stream.on("error", () => undefined);
  return { stream, outcome };
}

before(async () => {
  cluster = await startCluster({
    cleanupAfter: false,
    extraArgs: [
      ["--max-fetch-bytes", fetchCeilingBytes],
      ["--subscribe-stream-bytes", streamBudgetBytes],
      ["--subscribe-node-bytes", nodeBudgetBytes],
      ["--max-subscribe-streams", maxStreams],
      ["--max-long-polls", maxLongPolls],
      ["--keepalive-ms", 500],
      ["--keepalive-timeout-ms", 500],
      ["--snapshot-bytes", snapshotBytes],
    ].flat().map(String),
  });
  leader = await cluster.waitForLeader(electionDeadlineMs);
  await createTopic("big");
  await fill("big", 128);
});

after(async () => {
  for (const s of stubs.values()) s.close();
  await cluster.cleanup();
});

describe("read limits", () => {
  test("a Fetch asking for 2^31-1 bytes gets at most the node's ceiling, through the leader and a follower", async () => {
    for (const id of [leader, followers()[0]]) {
      const res = await fetch(id, { topic: "big", offset: 0, maxBytes: 2 ** 31 - 1 });
      const bytes = res.records.reduce((n, r) => n + r.value.length, 0);
      assert.ok(res.records.length > 0, `node ${id} returned records`);
      assert.ok(bytes <= fetchCeilingBytes, `node ${id} returned ${bytes} bytes, ceiling ${fetchCeilingBytes}`);
      assert.equal(res.nextOffset, res.records.length);
    }
  });

  test("min_bytes 0 at the high watermark answers at once instead of waiting max_wait_ms", async () => {
    for (const id of [leader, followers()[0]]) {
      // The deadline is far shorter than max_wait_ms: waiting would fail the call.
      const res = await fetch(id, { topic: "big", offset: 128, minBytes: 0, maxWaitMs: 30000 }, 3000);
      assert.equal(res.records.length, 0);
      assert.equal(res.highWatermark, 128);
    }
  });

  test("long polls past the node's cap are refused with RESOURCE_EXHAUSTED / OVERLOADED, and admitted again once they end", async () => {
    await createTopic("polls");
    const id = followers()[1];
    const waiting = Array.from({ length: maxLongPolls }, () => fetch(id, { topic: "polls", offset: 0, minBytes: 1, maxWaitMs: 20000 }, 25000));
    const refused = await waitFor(async () => {
      try {
        await fetch(id, { topic: "polls", offset: 0, minBytes: 1, maxWaitMs: 50 });
        return undefined;
      } catch (err) {
        return err as grpc.ServiceError;
      }
    }, 10000, "a long poll past the cap to be refused");
    assert.equal(refused.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(reasonOf(refused), "ERROR_REASON_OVERLOADED");
    assert.ok(Buffer.byteLength(refused.details) < 1024);
    await fill("polls", 1, 1);
    for (const res of await Promise.all(waiting)) assert.equal(res.records.length, 1);
    const again = await fetch(id, { topic: "polls", offset: 1, minBytes: 1, maxWaitMs: 50 });
    assert.equal(again.records.length, 0);
  });

  test("stalled subscribers hold at most the node's budget: past it new streams are refused, and freed when they go", async () => {
    const id = leader;
    const stalled = new StalledSubscribers(cluster.node(id).clientAddress);
    for (let k = 0; k < 2; k++) stalled.open({ topic: "big", partition: 0, position: "START_POSITION_EARLIEST" });
    try {
      const refused = await waitFor(async () => {
        const probe = subscribeOutcome(id, "big");
        const outcome = await probe.outcome;
        probe.stream.cancel();
        return outcome === "admitted" ? undefined : outcome;
      }, 10000, "the node's read budget to fill");
      assert.equal(refused.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.equal(reasonOf(refused), "ERROR_REASON_OVERLOADED");
    } finally {
      stalled.close();
    }
    // Once the stalled streams are gone a reader gets every record, in order, from the start.
    const offsets: number[] = [];
    await waitFor(async () => {
      const probe = subscribeOutcome(id, "big");
      const outcome = await probe.outcome;
      probe.stream.cancel();
      return outcome === "admitted";
    }, 10000, "the budget to be released");
    const reader = on(id).consumer.Subscribe({ topic: "big", partition: 0, position: "START_POSITION_EARLIEST" });
    reader.on("error", () => undefined);
    for await (const res of reader as AsyncIterable<SubscribeResponse__Output>) {
      for (const r of res.records) offsets.push(Number(r.offset));
      if (offsets.length >= 128) break;
    }
    reader.cancel();
    assert.deepEqual(offsets, Array.from({ length: 128 }, (_, k) => k));
  });

  test("Subscribe streams past the node's cap are refused, and a frozen client's stream is reaped by keepalive", async () => {
    const id = followers()[0];
    const script = resolve(__dirname, "..", "support", "frozen-subscriber.js");
    const child: ChildProcess = spawn(process.execPath, [script, cluster.node(id).clientAddress, "big"], { stdio: ["ignore", "pipe", "inherit"] });
    const held: grpc.ClientReadableStream<SubscribeResponse__Output>[] = [];
    try {
      await new Promise<void>((ok, fail) => {
        child.stdout?.once("data", () => ok());
        child.once("exit", (code) => fail(new Error(`the frozen subscriber exited with ${code}`)));
      });
      for (let k = 1; k < maxStreams; k++) {
        const probe = subscribeOutcome(id, "big");
        assert.equal(await probe.outcome, "admitted");
        held.push(probe.stream);
      }
      const over = subscribeOutcome(id, "big");
      const refused = await over.outcome;
      assert.notEqual(refused, "admitted");
      assert.equal((refused as grpc.ServiceError).code, grpc.status.RESOURCE_EXHAUSTED);
      assert.equal(reasonOf(refused as grpc.ServiceError), "ERROR_REASON_OVERLOADED");
      child.kill("SIGSTOP");
      // The frozen client answers no ping: the node closes its connection and its stream frees a slot.
      await waitFor(async () => {
        const probe = subscribeOutcome(id, "big");
        const outcome = await probe.outcome;
        if (outcome === "admitted") held.push(probe.stream);
        else probe.stream.cancel();
        return outcome === "admitted";
      }, 15000, "the frozen client's stream to be reaped");
    } finally {
      for (const s of held) s.cancel();
      child.kill("SIGKILL");
    }
  });

  test("the raft log is compacted by bytes: a follower that missed more than --snapshot-bytes catches up from a snapshot", async () => {
    const follower = followers()[0];
    await cluster.kill(follower);
    await createTopic("compacted");
    // Far fewer entries than --snapshot-entries, far more bytes than --snapshot-bytes.
    await fill("compacted", 256);
    await cluster.restart(follower);
    const res = await waitFor(async () => {
      const r = await fetch(follower, { topic: "compacted", offset: 255, maxWaitMs: 0 });
      return r.records.length === 1 ? r : undefined;
    }, 20000, "the restarted follower to catch up");
    assert.equal(res.highWatermark, 256);
    assert.match(readFileSync(cluster.node(follower).logPath, "utf8"), /installed snapshot/);
  });
});
