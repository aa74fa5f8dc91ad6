// Readers see what is on disk: the leader answers a produce once it is applied, before the apply write
// lands, but a Fetch asked meanwhile is answered only from state that has landed in storage. One real
// node's stack in process (LevelDB, RaftStore, BrokerMachine, Replica), with its writes held at will.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import type { CommandResult } from "../../src/broker";
import { CommandKind, encodeCommand } from "../../src/broker/commands";
import { encodeRecordBatch } from "../../src/broker/record-batch";
import { RawNode } from "../../src/raft";
import { ApplySignal } from "../../src/server/apply-signal";
import { BrokerMachine } from "../../src/server/broker-machine";
import type { NodeContext } from "../../src/server/node-context";
import { publicApi } from "../../src/server/public-proto";
import { ReadBudget } from "../../src/server/read-budget";
import { Replica } from "../../src/server/replica";
import type { RaftPersistence, WriteBatch } from "../../src/server/replica-ports";
import { consumerService } from "../../src/server/services/consumer-service";
import { openDatabase } from "../../src/storage/db";
import { RaftStore } from "../../src/storage/raft-store";
import type { FetchRequest__Output } from "../../src/generated/raftline/v1/FetchRequest";
import { manualLoopClock, node1RaftConfig } from "../support/replica-harness";

const nowMs = 1_700_000_000_000;
const waitLimitMs = 5000;

/** A write batch that knows whether it carries applied state. */
interface HeldBatch extends WriteBatch {
  applies: boolean;
}

/** RaftStore whose writes of applied state wait while `held`; `landed` counts those that reached LevelDB. */
class HeldWrites implements RaftPersistence {
  held = false;
  landed = 0;
  private waiting: (() => void)[] = [];

  constructor(private readonly inner: RaftStore) {}

  newBatch(): HeldBatch {
    const batch = this.inner.newBatch();
    const held: HeldBatch = {
      applies: false,
      put: (key, value) => batch.put(key, value),
      del: (key) => batch.del(key),
      write: async (options) => {
        if (this.held && held.applies) await new Promise<void>((resolve) => this.waiting.push(resolve));
        await batch.write(options);
        if (held.applies) this.landed++;
      },
    };
    return held;
  }

  addReady: RaftPersistence["addReady"] = (batch, rd) => this.inner.addReady(batch, rd);
  addApplied: RaftPersistence["addApplied"] = (batch, index, conf) => {
    (batch as HeldBatch).applies = true;
    this.inner.addApplied(batch, index, conf);
  };
  addCompaction: RaftPersistence["addCompaction"] = (batch, index) => this.inner.addCompaction(batch, index);

  release(): void {
    this.held = false;
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }
}

async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + waitLimitMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${waitLimitMs} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

interface FetchAnswer {
  highWatermark: number;
  records: number;
  /** Writes of applied state landed when the answer was given. */
  landedAtAnswer: number;
}

test("a fetch asked while an apply write is in flight is answered from landed state only", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "raftline-landed-"));
  const db = await openDatabase(dir);
  const { store, state } = await RaftStore.load(db, { voters: [1], learners: [] });
  const machine = await BrokerMachine.load(db, state.applied, store.entryRefs, state.snapshot.index);
  const persistence = new HeldWrites(store);
  const { clock, tick } = manualLoopClock(nowMs);
  const replica = new Replica<CommandResult>(
    { id: 1, tickMs: 10, electionTicks: 10, snapshotEntries: 1 << 30, snapshotBytes: 2 ** 40, maxPendingProposals: 100, maxProposalBatch: 100, maxInboxMessages: 1000, maxPendingReads: 100, maxUnwrittenBytes: 1 << 30, applied: state.applied, appliedTerm: store.termAt(state.applied) ?? 0, conf: state.conf, firstIndex: state.snapshot.index + 1 },
    {
      raft: new RawNode(node1RaftConfig, state, () => 0.5),
      persistence,
      machine,
      links: { send: () => undefined, sendSnapshot: () => Promise.resolve(false) },
      snapshots: { capture: () => undefined, open: () => undefined, stage: () => Promise.resolve(), install: () => Promise.resolve(), discard: () => Promise.resolve() },
      logger: { info: () => undefined, error: () => undefined },
      clock,
      fatal: (err) => {
        throw err;
      },
    },
  );
  t.after(async () => {
    persistence.release();
    await replica.stop();
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });
  replica.start();
  await until("node 1 leads", () => {
    tick();
    return replica.isLeader;
  });
  const deadlineMs = Date.now() + waitLimitMs;
  const create = encodeCommand({ kind: CommandKind.CreateTopic, nowMs, name: "t", partitions: 1, retentionMs: 0, retentionBytes: 0, maxRecordBytes: 0 });
  await replica.propose(create, "quorum", deadlineMs);
  await replica.readLanded(() => undefined);

  persistence.held = true;
  const landedBefore = persistence.landed;
  const blob = encodeRecordBatch([{ value: new TextEncoder().encode("r0") }], nowMs);
  const produced = await replica.propose(encodeCommand({ kind: CommandKind.Produce, nowMs, batches: [{ topic: "t", partition: 0, blob }] }), "quorum", deadlineMs);
  // The answering rule: committed and applied is enough to answer; the apply write is still held.
  assert.equal(persistence.landed, landedBefore, "the produce was answered after its write landed, not before");
  assert.ok(produced.index > 0);
  assert.equal(machine.state.partitionInfo("t", 0).highWatermark, 1, "the record is applied in memory");

  const ctx = {
    config: { maxFetchBytes: 1 << 20 },
    replica,
    machine,
    db,
    applied: new ApplySignal(),
    reads: new ReadBudget({ streamBytes: 1 << 20, nodeBytes: 1 << 20, maxStreams: 1, maxLongPolls: 1 }),
    now: () => Date.now(),
    traffic: { consumed: () => undefined },
    logger: { error: () => undefined },
    clientAddressOf: () => undefined,
    damage: { check: () => undefined, report: () => Promise.resolve() },
  } as unknown as NodeContext;
  const decode = publicApi().Consumer.service.Fetch.responseDeserialize;
  const fetch = (offset: number): Promise<FetchAnswer> =>
    new Promise((resolve, reject) => {
      const request: FetchRequest__Output = { topic: "t", partition: 0, offset, maxBytes: 1 << 20, minBytes: 0, maxWaitMs: 0 };
      const call = { request, getDeadline: () => new Date(deadlineMs), metadata: new grpc.Metadata(), cancelled: false };
      consumerService(ctx).Fetch(call as unknown as grpc.ServerUnaryCall<FetchRequest__Output, Buffer>, (err, bytes) => {
        if (err || !bytes) return reject(err ?? new Error("no answer"));
        const answer = decode(bytes) as { highWatermark: number | string; records: unknown[] };
        resolve({ highWatermark: Number(answer.highWatermark), records: answer.records.length, landedAtAnswer: persistence.landed });
      });
    });
  // At the high watermark (nothing to read yet) and at the record itself.
  const atEnd = fetch(1);
  const atRecord = fetch(0);
  // Let everything that can run now run: an answer from memory would be given in this turn.
  await new Promise((resolve) => setImmediate(resolve));
  persistence.release();
  const [end, record] = await Promise.all([atEnd, atRecord]);
  for (const answer of [end, record]) {
    assert.equal(answer.highWatermark, 1);
    assert.ok(answer.landedAtAnswer > landedBefore, "a fetch reported a high watermark whose record was not yet in storage");
  }
  assert.equal(record.records, 1);
  assert.equal(end.records, 0);
});
