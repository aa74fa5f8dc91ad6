// The replica loop after a restart at its compaction point (FINDINGS.md F5, F6) and a leadership transfer
// asked while ticks wait in the queue (F7), on one Replica over in-memory ports.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Message, MessageType, RawNode, SnapshotMeta } from "../../src/raft";
import { newMessage } from "../../src/raft/messages";
import { Replica } from "../../src/server/replica";
import type { RaftPersistence, SnapshotSource, WriteBatch } from "../../src/server/replica-ports";
import { manualLoopClock, node1RaftConfig } from "../support/replica-harness";

const conf = { voters: [1, 2], learners: [] };
/** The node compacted its log at index 5 (term 3) and applied nothing after it before it stopped. */
const restored = { hardState: { term: 3, vote: 1, commit: 5 }, snapshot: { index: 5, term: 3, conf }, entries: [], applied: 5, conf };

const batch: WriteBatch = { put: () => undefined, del: () => undefined, write: () => Promise.resolve() };
const persistence: RaftPersistence = { newBatch: () => batch, addReady: () => undefined, addApplied: () => undefined, addCompaction: () => undefined };

interface Harness {
  replica: Replica<undefined>;
  sent: Message[];
  snapshotsSent: SnapshotMeta[];
  tick(): void;
  settle(): Promise<void>;
}

function restart(): Harness {
  const sent: Message[] = [];
  const snapshotsSent: SnapshotMeta[] = [];
  let captured: SnapshotMeta | undefined;
  const snapshots: SnapshotSource = {
    capture: (meta) => {
      captured = meta;
    },
    open: () => (captured === undefined ? undefined : { meta: captured, chunks: (async function* () {})() }),
    stage: () => Promise.resolve(),
    install: () => Promise.resolve(),
    discard: () => Promise.resolve(),
  };
  const { clock, tick: tickLoop } = manualLoopClock(1_700_000_000_000);
  const replica = new Replica<undefined>(
    { id: 1, tickMs: 10, electionTicks: 10, snapshotEntries: 1000, snapshotBytes: 2 ** 40, maxPendingProposals: 10, maxProposalBatch: 10, maxInboxMessages: 1000, maxPendingReads: 100, maxUnwrittenBytes: 1 << 30, applied: 5, appliedTerm: 3, conf, firstIndex: 6 },
    {
      raft: new RawNode(node1RaftConfig, restored, () => 0.5),
      persistence,
      machine: { apply: () => undefined, reload: () => Promise.resolve() },
      links: {
        send: (messages) => sent.push(...messages),
        sendSnapshot: (message) => {
          if (message.snapshot) snapshotsSent.push(message.snapshot);
          return new Promise<boolean>(() => undefined);
        },
      },
      snapshots,
      logger: { info: () => undefined, error: () => undefined },
      clock,
      fatal: (err) => {
        throw err;
      },
    },
  );
  replica.start();
  return { replica, sent, snapshotsSent, tick: () => tickLoop(), settle: () => new Promise((resolve) => setImmediate(resolve)) };
}

/** Node 1 campaigns and node 2 grants its vote: node 1 leads term 4 and needs node 2 for every commit. */
async function lead(h: Harness): Promise<void> {
  h.replica.campaign();
  await h.settle();
  const vote = h.sent.find((m) => m.type === MessageType.Vote);
  assert.ok(vote, "node 1 asked for a vote");
  h.replica.receive([newMessage(MessageType.VoteResp, 2, 1, vote.term)]);
  await h.settle();
  assert.equal(h.replica.isLeader, true);
}

test("F5, F6: a leader restarted at its compaction point sends node 2 a snapshot with the entry's real term", async () => {
  const h = restart();
  await lead(h);
  // Node 2's log is empty: it rejects the append, and the leader must send its snapshot (index 5).
  const refusal = { ...newMessage(MessageType.AppResp, 2, 1, h.replica.currentTerm), index: 5, reject: true, rejectHint: 0 };
  h.replica.receive([refusal]);
  for (let k = 0; k < 10 && h.snapshotsSent.length === 0; k++) await h.settle();
  // F6: nothing is applied past index 5 (that needs node 2), yet the snapshot goes out.
  assert.equal(h.replica.appliedIndex, 5);
  assert.deepEqual(h.snapshotsSent[0], { index: 5, term: 3, conf }, "F5: the snapshot must carry term 3, not 0");
  await h.replica.stop();
});

test("F7: a transfer asked while ticks wait in the queue is stepped after them", async () => {
  const h = restart();
  await lead(h);
  // An election timeout's worth of ticks (10) and then the transfer arrive in one turn. The transfer's own
  // timeout starts after those ticks, so the leader still refuses proposals while node 2 catches up;
  // stepped ahead of them, it would time out at once and let proposals in.
  for (let k = 0; k < 10; k++) h.tick();
  const transfer = h.replica.transferLeadership(2);
  await transfer;
  const refused = await h.replica.propose(new Uint8Array([1]), "none", Date.now() + 5000).then(
    () => "accepted",
    (err: { code: string }) => err.code,
  );
  assert.equal(refused, "TRANSFER_IN_PROGRESS");
  assert.equal(h.replica.isLeader, true);
  await h.replica.stop();
});
