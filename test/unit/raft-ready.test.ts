// The Ready contract between the core and its driver.
import assert from "node:assert/strict";
import { test } from "node:test";
import { EntryType, Message, MessageType, NONE, RaftConfig, RaftState, RawNode, Role } from "../../src/raft";
import { bytes } from "../support/raft-scenario";
import { seededRandom } from "../support/seeded-random";

const conf = { voters: [1, 2, 3], learners: [] };

function config(id: number): RaftConfig {
  return {
    id,
    electionTicks: 10,
    heartbeatTicks: 1,
    preVote: false,
    checkQuorum: false,
    maxMsgBytes: 1 << 20,
    maxInflightMsgs: 16,
    maxUncommittedBytes: 1 << 20,
    learnerCatchUpEntries: 10,
  };
}

function fresh(id: number): RawNode {
  const state: RaftState = {
    hardState: { term: 0, vote: NONE, commit: 0 },
    snapshot: { index: 0, term: 0, conf },
    entries: [],
    applied: 0,
    conf,
  };
  return new RawNode(config(id), state, seededRandom(id));
}

function voteRequest(from: number, to: number, term: number): Message {
  return {
    type: MessageType.Vote,
    from,
    to,
    term,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    rejectHintTerm: 0,
  };
}

test("a vote and the answer that reports it leave in the same Ready, which must be synced", () => {
  const node = fresh(2);
  node.step(voteRequest(1, 2, 1));
  const rd = node.ready();
  assert.deepEqual(rd.hardState, { term: 1, vote: 1, commit: 0 });
  assert.equal(rd.mustSync, true);
  assert.deepEqual(
    rd.messages.map((m) => [m.type, m.to, m.reject]),
    [[MessageType.VoteResp, 1, false]],
  );
  node.advance(rd);
  assert.equal(node.hasReady(), false);
});

test("a new leader's Ready: role change, its no-op to persist, and the appends to send", () => {
  const node = fresh(1);
  node.campaign();
  let rd = node.ready();
  assert.deepEqual(rd.softState, { leader: NONE, role: Role.Candidate });
  node.advance(rd);
  node.step({ ...voteRequest(2, 1, 1), type: MessageType.VoteResp });
  rd = node.ready();
  assert.deepEqual(rd.softState, { leader: 1, role: Role.Leader });
  assert.deepEqual(
    rd.entries.map((e) => [e.index, e.term, e.data.length]),
    [[1, 1, 0]],
  );
  assert.deepEqual(
    rd.messages.map((m) => [m.type, m.to, m.entries.length]),
    [
      [MessageType.App, 2, 1],
      [MessageType.App, 3, 1],
    ],
  );
  assert.equal(rd.hardState, undefined, "term and vote did not change since the last Ready");
  node.advance(rd);
});

test("the driver may keep stepping between ready() and advance(), but not call ready() again", () => {
  const node = fresh(2);
  node.step(voteRequest(1, 2, 1));
  const first = node.ready();
  assert.throws(() => node.ready(), /before advance/);
  // An append arrives while the first Ready is still being persisted.
  node.step({
    ...voteRequest(1, 2, 1),
    type: MessageType.App,
    entries: [{ index: 1, term: 1, type: EntryType.Normal, data: bytes("x") }],
  });
  node.advance(first);
  const second = node.ready();
  assert.deepEqual(
    second.entries.map((e) => e.index),
    [1],
  );
  assert.deepEqual(
    second.messages.map((m) => [m.type, m.index]),
    [[MessageType.AppResp, 1]],
  );
  node.advance(second);
});

test("only a commit index change needs no sync", () => {
  const node = fresh(2);
  node.step({
    ...voteRequest(1, 2, 1),
    type: MessageType.App,
    entries: [{ index: 1, term: 1, type: EntryType.Normal, data: bytes("x") }],
  });
  node.advance(node.ready());
  node.step({ ...voteRequest(1, 2, 1), type: MessageType.Heartbeat, commit: 1 });
  const rd = node.ready();
  assert.deepEqual(rd.hardState, { term: 1, vote: NONE, commit: 1 });
  assert.equal(rd.mustSync, false);
  assert.deepEqual(
    rd.committedEntries.map((e) => e.index),
    [1],
  );
  node.advance(rd);
});

test("a bad config fails at construction", () => {
  const state: RaftState = { hardState: { term: 0, vote: 0, commit: 0 }, snapshot: { index: 0, term: 0, conf }, entries: [], applied: 0, conf };
  assert.throws(() => new RawNode({ ...config(1), heartbeatTicks: 10 }, state, seededRandom(1)), /heartbeatTicks/);
  assert.throws(() => new RawNode({ ...config(1), maxInflightMsgs: 0 }, state, seededRandom(1)), /maxInflightMsgs/);
});
