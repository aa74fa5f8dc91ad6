// A leader whose own writes are held back (LevelDB stops writes while level 0 is full) proposes no more
// client writes once maxUnwrittenBytes of entries wait to be written, but its loop goes on: heartbeats
// still leave on every tick. When a write lands, the waiting writes are proposed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Message, MessageType, RawNode } from "../../src/raft";
import { newMessage } from "../../src/raft/messages";
import { Replica } from "../../src/server/replica";
import type { RaftPersistence, WriteBatch } from "../../src/server/replica-ports";
import { manualLoopClock, node1RaftConfig } from "../support/replica-harness";

const conf = { voters: [1, 2, 3], learners: [] };
const start = { hardState: { term: 1, vote: 0, commit: 0 }, snapshot: { index: 0, term: 0, conf }, entries: [], applied: 0, conf };

test("past maxUnwrittenBytes client writes wait to be proposed while heartbeats go on; a landed write lets them in", async () => {
  const held: (() => void)[] = [];
  const batch = (): WriteBatch => ({
    put: () => undefined,
    del: () => undefined,
    write: () => new Promise<void>((resolve) => held.push(resolve)),
  });
  const proposed: number[] = [];
  const persistence: RaftPersistence = {
    newBatch: batch,
    addReady: (_b, rd) => proposed.push(...rd.entries.filter((e) => e.data.length > 0).map((e) => e.index)),
    addApplied: () => undefined,
    addCompaction: () => undefined,
  };
  const sent: Message[] = [];
  const { clock, tick } = manualLoopClock(1_700_000_000_000);
  const replica = new Replica<undefined>(
    { id: 1, tickMs: 10, electionTicks: 10, snapshotEntries: 1000, snapshotBytes: 2 ** 40, maxPendingProposals: 10, maxProposalBatch: 1, maxInboxMessages: 1000, maxPendingReads: 100, maxUnwrittenBytes: 1000, applied: 0, appliedTerm: 0, conf, firstIndex: 1 },
    {
      raft: new RawNode(node1RaftConfig, start, () => 0.5),
      persistence,
      machine: { apply: () => undefined, reload: () => Promise.resolve() },
      links: { send: (messages) => sent.push(...messages), sendSnapshot: () => Promise.resolve(false) },
      snapshots: { capture: () => undefined, open: () => undefined, stage: () => Promise.resolve(), install: () => Promise.resolve(), discard: () => Promise.resolve() },
      logger: { info: () => undefined, error: () => undefined },
      clock,
      fatal: (err) => {
        throw err;
      },
    },
  );
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  const landAll = async (): Promise<void> => {
    while (held.length > 0) {
      held.shift()?.();
      await settle();
    }
  };
  replica.start();
  replica.campaign();
  await settle();
  await landAll();
  const vote = sent.find((m) => m.type === MessageType.Vote);
  assert.ok(vote);
  replica.receive([newMessage(MessageType.VoteResp, 2, 1, vote.term)]);
  await settle();
  await landAll();
  assert.ok(replica.isLeader);

  // Writes stop landing: the first two 600-byte writes go to storage, the other two wait.
  const writes = [0, 1, 2, 3].map(() => replica.propose(new Uint8Array(600), "none", Date.now() + 60_000));
  await settle();
  assert.equal(proposed.length, 2, "proposed past the bound");
  sent.length = 0;
  tick();
  await settle();
  assert.ok(sent.some((m) => m.type === MessageType.Heartbeat), "the loop goes on while writes are held");
  assert.equal(proposed.length, 2);

  await landAll();
  await Promise.all(writes);
  assert.equal(proposed.length, 4, "a landed write lets the waiting writes in");
  await replica.stop();
});
