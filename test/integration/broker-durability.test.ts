// Durability and failover with real processes: a killed leader is replaced and writes resume, a whole
// cluster restarted from disk keeps every acknowledged record at its offset, a wiped node (replaced) catches up by
// snapshot, a stopped leader hands over, and a cluster without quorum answers instead of hanging.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { Cluster, startCluster } from "../support/cluster";
import { RawStubs, expectError, rawStubs, unaryCall } from "../support/raw-stubs";
import { waitFor } from "../support/wait";
import type { ConsumedRecord__Output } from "../../src/generated/raftline/v1/ConsumedRecord";
import type { FetchResponse__Output } from "../../src/generated/raftline/v1/FetchResponse";
import type { ProduceResponse__Output } from "../../src/generated/raftline/v1/ProduceResponse";

const electionDeadlineMs = 15000;

class Harness {
  private readonly stubs = new Map<number, RawStubs>();
  constructor(readonly cluster: Cluster) {}

  on(id: number): RawStubs {
    let s = this.stubs.get(id);
    if (!s) {
      s = rawStubs(this.cluster.node(id).clientAddress);
      this.stubs.set(id, s);
    }
    return s;
  }

  async createTopic(id: number, name: string): Promise<void> {
    const a = this.on(id).admin;
    await unaryCall((opts, cb) => a.CreateTopic({ name, partitions: 1 }, new grpc.Metadata(), opts, cb));
  }

  produce(id: number, topic: string, values: string[], timeoutMs = 5000): Promise<ProduceResponse__Output> {
    const p = this.on(id).producer;
    const records = values.map((v) => ({ value: Buffer.from(v) }));
    return unaryCall<ProduceResponse__Output>((opts, cb) => p.Produce({ batches: [{ topic, partition: 0, records }] }, new grpc.Metadata(), opts, cb), timeoutMs);
  }

  /** The whole partition as this node has applied it. */
  async readAll(id: number, topic: string): Promise<ConsumedRecord__Output[]> {
    const out: ConsumedRecord__Output[] = [];
    const c = this.on(id).consumer;
    for (;;) {
      const res = await unaryCall<FetchResponse__Output>((opts, cb) => c.Fetch({ topic, partition: 0, offset: out.length }, new grpc.Metadata(), opts, cb));
      out.push(...res.records);
      if (res.records.length === 0 || out.length >= Number(res.highWatermark)) return out;
    }
  }

  close(): void {
    for (const s of this.stubs.values()) s.close();
    this.stubs.clear();
  }
}

/** Acknowledged writes: offset → value, as the producer was told. */
type Acked = Map<number, string>;

async function assertHolds(h: Harness, id: number, topic: string, acked: Acked): Promise<ConsumedRecord__Output[]> {
  const records = await h.readAll(id, topic);
  records.forEach((r, i) => assert.equal(Number(r.offset), i, `node ${id}: offsets are dense`));
  for (const [offset, value] of acked) {
    assert.equal(records[offset]?.value.toString(), value, `node ${id} holds acknowledged offset ${offset}`);
  }
  return records;
}

async function withCluster(options: Parameters<typeof startCluster>[0], body: (h: Harness) => Promise<void>): Promise<void> {
  const cluster = await startCluster({ ...options, cleanupAfter: false });
  const h = new Harness(cluster);
  try {
    await body(h);
  } finally {
    h.close();
    await cluster.cleanup();
  }
}

test("SIGKILL the leader while writing: a new leader is elected, writes resume, nothing acknowledged is lost", async () => {
  await withCluster({}, async (h) => {
    const { cluster } = h;
    let leader = await cluster.waitForLeader(electionDeadlineMs);
    await h.createTopic(leader, "failover");
    const acked: Acked = new Map();
    let seq = 0;
    const writeOne = async (): Promise<boolean> => {
      const value = `v${seq++}`;
      try {
        const res = await h.produce(leader, "failover", [value], 2000);
        acked.set(Number(res.results[0].appends[0].baseOffset), value);
        return true;
      } catch {
        return false;
      }
    };
    while (acked.size < 100) await writeOne();
    const killed = leader;
    await cluster.kill(killed, "SIGKILL");
    const killedAt = Date.now();
    leader = await cluster.waitForLeader(electionDeadlineMs);
    assert.notEqual(leader, killed);
    const before = acked.size;
    await waitFor(() => writeOne(), electionDeadlineMs, "a write to succeed after the kill");
    const resumedMs = Date.now() - killedAt;
    while (acked.size < before + 100) await writeOne();
    for (const id of cluster.liveIds()) await assertHolds(h, id, "failover", acked);
    await cluster.restart(killed);
    const reference = await h.readAll(leader, "failover");
    await waitFor(async () => (await h.readAll(killed, "failover")).length === reference.length, 20000, "the restarted node to catch up");
    const caughtUp = await assertHolds(h, killed, "failover", acked);
    assert.deepEqual(caughtUp.map((r) => r.value.toString()), reference.map((r) => r.value.toString()), "identical logs");
    assert.ok(resumedMs < electionDeadlineMs, `writes resumed after ${resumedMs} ms`);
  });
});

test("restart all three from disk: every acknowledged record is there with the same offset", async () => {
  await withCluster({}, async (h) => {
    const { cluster } = h;
    const leader = await cluster.waitForLeader(electionDeadlineMs);
    await h.createTopic(leader, "restart");
    const acked: Acked = new Map();
    for (let b = 0; b < 20; b++) {
      const values = Array.from({ length: 25 }, (_, i) => `b${b}-${i}`);
      const res = await h.produce(leader, "restart", values);
      const base = Number(res.results[0].appends[0].baseOffset);
      values.forEach((v, i) => acked.set(base + i, v));
    }
    await Promise.all(cluster.nodes.map((n) => cluster.kill(n.id, "SIGKILL")));
    h.close();
    await Promise.all(cluster.nodes.map((n) => cluster.restart(n.id)));
    await cluster.waitForLeader(electionDeadlineMs);
    for (const node of cluster.nodes) {
      await waitFor(async () => (await h.readAll(node.id, "restart")).length >= acked.size, 15000, `node ${node.id} to replay its log`);
      await assertHolds(h, node.id, "restart", acked);
    }
  });
});

test("a node restarted with an empty data dir and replaced catches up by snapshot and then holds the identical log", async () => {
  await withCluster({ extraArgs: ["--snapshot-entries", "20"] }, async (h) => {
    const { cluster } = h;
    const leader = await cluster.waitForLeader(electionDeadlineMs);
    await h.createTopic(leader, "snap");
    const acked: Acked = new Map();
    for (let b = 0; b < 60; b++) {
      const res = await h.produce(leader, "snap", [`r${b}`, `s${b}`]);
      const base = Number(res.results[0].appends[0].baseOffset);
      acked.set(base, `r${b}`);
      acked.set(base + 1, `s${b}`);
    }
    const follower = cluster.nodes.map((n) => n.id).find((id) => id !== leader) ?? 0;
    await cluster.restart(follower, { wipe: true });
    // Its peers refuse it under its old id (it may have forgotten a vote) until it is replaced.
    await cluster.client().admin().replaceNode(follower);
    await waitFor(async () => (await h.readAll(follower, "snap")).length >= acked.size, 20000, "the wiped node to catch up");
    const log = readFileSync(cluster.node(follower).logPath, "utf8");
    assert.match(log, /installed snapshot/, "it caught up by snapshot, not by replaying the whole log");
    const reference = await assertHolds(h, leader, "snap", acked);
    const copy = await assertHolds(h, follower, "snap", acked);
    assert.deepEqual(
      copy.map((r) => [Number(r.offset), Number(r.timestampMs), r.value.toString()]),
      reference.map((r) => [Number(r.offset), Number(r.timestampMs), r.value.toString()]),
    );
    // Many small entries in flight: every node compacts its log many times over while applying.
    let last = 0;
    for (let wave = 0; wave < 20; wave++) {
      const burst = await Promise.all(Array.from({ length: 64 }, (_, i) => h.produce(leader, "snap", [`burst${wave}.${i}`], 20000)));
      last = Math.max(last, ...burst.map((r) => Number(r.results[0].appends[0].baseOffset)));
    }
    for (const node of cluster.nodes) {
      await waitFor(async () => (await h.readAll(node.id, "snap")).length === last + 1, 20000, `node ${node.id} to apply the burst`);
      assert.ok(node.running, `node ${node.id} is still running`);
    }
  });
});

test("SIGTERM on the leader hands leadership to a follower and exits cleanly", async () => {
  await withCluster({}, async (h) => {
    const { cluster } = h;
    const leader = await cluster.waitForLeader(electionDeadlineMs);
    await h.createTopic(leader, "handover");
    await h.produce(leader, "handover", ["before"]);
    const exit = cluster.node(leader).waitExit(20000);
    await cluster.stop(leader);
    assert.equal((await exit)?.code, 0, "graceful exit");
    const next = await cluster.waitForLeader(electionDeadlineMs);
    assert.notEqual(next, leader);
    const res = await h.produce(next, "handover", ["after"]);
    assert.equal(Number(res.results[0].appends[0].baseOffset), 1);
  });
});

test("without a quorum a write fails by its deadline (never hangs) and reads still answer", async () => {
  await withCluster({}, async (h) => {
    const { cluster } = h;
    const leader = await cluster.waitForLeader(electionDeadlineMs);
    await h.createTopic(leader, "noquorum");
    await h.produce(leader, "noquorum", ["kept"]);
    const survivor = leader;
    for (const n of cluster.nodes) if (n.id !== survivor) await cluster.kill(n.id, "SIGKILL");
    const started = Date.now();
    const err = await expectError(h.produce(survivor, "noquorum", ["lost?"], 3000));
    const tookMs = Date.now() - started;
    assert.ok(
      err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED,
      `UNAVAILABLE or DEADLINE_EXCEEDED, got ${err.code} ${err.details}`,
    );
    assert.ok(tookMs < 3000 + 2000, `answered within the deadline (took ${tookMs} ms)`);
    const records = await h.readAll(survivor, "noquorum");
    assert.equal(records[0]?.value.toString(), "kept");
  });
});
