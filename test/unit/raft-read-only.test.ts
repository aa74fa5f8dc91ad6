// The leader's queue of reads waiting for a heartbeat round (ReadIndex, thesis §6.4), on its own: an
// acknowledged round serves its read and every earlier one at once, in arrival order, and nothing else;
// the newest waiting read is what the next heartbeat carries; the leader bounds the reads it holds. Written for mutants that survived the run
// of test/sim/MUTATION.md.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MessageType, ProposalErrorCode, RaftConfig, RawNode, Role } from "../../src/raft";
import { newMessage } from "../../src/raft/messages";
import { maxPendingReadRequests, ReadOnly } from "../../src/raft/read-only";

test("an acknowledged round serves its read and every earlier one, in order, and nothing else", () => {
  const ro = new ReadOnly();
  ro.add(5, "a", 1);
  ro.add(6, "b", 2);
  ro.add(7, "c", 1);
  assert.equal(ro.size, 3);
  assert.equal(ro.has("b"), true);
  const served = ro.advance("b");
  assert.deepEqual(
    served.map((r) => [r.context, r.index, r.from]),
    [
      ["a", 5, 1],
      ["b", 6, 2],
    ],
  );
  assert.equal(ro.size, 1);
  assert.equal(ro.has("a"), false);
  assert.deepEqual(ro.advance("b"), [], "a round already served serves nothing more");
  assert.deepEqual(ro.advance("c").map((r) => r.context), ["c"]);
  assert.equal(ro.size, 0);
});

test("the newest waiting read is the one the next heartbeat carries, until none waits", () => {
  const ro = new ReadOnly();
  assert.equal(ro.lastPendingContext(), undefined);
  ro.add(1, "a", 1);
  assert.equal(ro.lastPendingContext(), "a");
  ro.add(2, "b", 1);
  assert.equal(ro.lastPendingContext(), "b");
  ro.advance("a");
  assert.equal(ro.lastPendingContext(), "b");
  ro.advance("b");
  assert.equal(ro.lastPendingContext(), undefined);
});

test("a read added twice keeps its first place and index; acks are counted per read", () => {
  const ro = new ReadOnly();
  ro.add(3, "a", 1);
  assert.deepEqual([...(ro.recvAck(2, "a") ?? [])], [2]);
  ro.add(9, "a", 1);
  assert.deepEqual([...(ro.recvAck(3, "a") ?? [])].sort(), [2, 3]);
  assert.equal(ro.recvAck(2, "unknown"), undefined);
  assert.deepEqual(ro.advance("a").map((r) => r.index), [3]);
});

test("a leader holds at most 65,536 waiting reads, deferred or in a round, and refuses more", () => {
  const conf = { voters: [1, 2, 3], learners: [] };
  const cfg: RaftConfig = {
    id: 1,
    electionTicks: 10,
    heartbeatTicks: 1,
    preVote: false,
    checkQuorum: false,
    maxMsgBytes: 1 << 20,
    maxInflightMsgs: 256,
    maxUncommittedBytes: 1 << 20,
    learnerCatchUpEntries: 10,
  };
  const n = new RawNode(cfg, { hardState: { term: 1, vote: 0, commit: 0 }, snapshot: { index: 0, term: 0, conf }, entries: [], applied: 0, conf }, () => 0);
  const drain = () => {
    while (n.hasReady()) n.advance(n.ready());
  };
  n.campaign();
  drain();
  n.step(newMessage(MessageType.VoteResp, 2, 1, 2));
  drain();
  assert.equal(n.basicStatus().role, Role.Leader);

  // Before its term-start entry commits, a new leader defers reads.
  for (let k = 0; k < maxPendingReadRequests; k++) assert.equal(n.readIndex(`d${k}`).ok, true);
  const deferredFull = n.readIndex("one-more");
  assert.equal(!deferredFull.ok && deferredFull.code, ProposalErrorCode.ReadQueueFull);

  // The entry commits: the deferred reads move into a heartbeat round, which is now full.
  const ack = newMessage(MessageType.AppResp, 2, 1, 2);
  ack.index = 1;
  n.step(ack);
  drain();
  const roundFull = n.readIndex("another");
  assert.equal(!roundFull.ok && roundFull.code, ProposalErrorCode.ReadQueueFull);
  assert.equal(n.readIndex("d7").ok, true, "a read already waiting may be asked again");
});
