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

/** Node 1 leading term 1 of {1, 2, 3} with its no-op at index 1 committed everywhere. */
function leaderWithNoopCommitted(): RawNode {
  const node = fresh(1);
  node.campaign();
  node.advance(node.ready());
  node.step({ ...voteRequest(2, 1, 1), type: MessageType.VoteResp });
  node.advance(node.ready());
  node.step({ ...voteRequest(2, 1, 1), type: MessageType.AppResp, index: 1 });
  node.advance(node.ready());
  return node;
}

function appResp(from: number, index: number): Message {
  return { ...voteRequest(from, 1, 1), type: MessageType.AppResp, index };
}

test("accept: entries handed to a write under way are not handed out again, and the next Ready may come first", () => {
  const node = leaderWithNoopCommitted();
  node.propose([bytes("a")]);
  const first = node.ready();
  assert.deepEqual(first.entries.map((e) => e.index), [2]);
  node.accept(first);
  node.propose([bytes("b")]);
  const second = node.ready();
  assert.deepEqual(second.entries.map((e) => e.index), [3], "entry 2 is being written, only 3 is new");
  node.accept(second);
  assert.equal(node.hasReady(), false);
});

test("a leader counts its own copy towards commit only once persisted() reports its write landed", () => {
  const node = leaderWithNoopCommitted();
  node.propose([bytes("a")]);
  const rd = node.ready();
  node.accept(rd);
  node.step(appResp(2, 2));
  assert.equal(node.status().commit, 1, "node 2 alone is no quorum while the leader's write is under way");
  node.persisted(2, 1);
  assert.equal(node.status().commit, 2);
  assert.deepEqual(node.ready().committedEntries.map((e) => e.index), [2]);
});

test("two followers' copies commit an entry while the leader's own write is still under way", () => {
  const node = leaderWithNoopCommitted();
  node.propose([bytes("a")]);
  node.accept(node.ready());
  node.step(appResp(2, 2));
  node.step(appResp(3, 2));
  assert.equal(node.status().commit, 2);
});

test("entries replaced while their write was under way are handed out again, and the old write's report is ignored", () => {
  const node = fresh(2);
  const app = (term: number, prevIndex: number, prevTerm: number, entries: { index: number; term: number }[]): Message => ({
    ...voteRequest(term === 1 ? 1 : 3, 2, term),
    type: MessageType.App,
    index: prevIndex,
    logTerm: prevTerm,
    entries: entries.map((e) => ({ ...e, type: EntryType.Normal, data: bytes(`${e.index}/${e.term}`) })),
  });
  node.step(app(1, 0, 0, [{ index: 1, term: 1 }, { index: 2, term: 1 }]));
  const old = node.ready();
  node.accept(old);
  // A new leader of term 2 overwrites index 2 before the first write lands.
  node.step(app(2, 1, 1, [{ index: 2, term: 2 }]));
  const replacing = node.ready();
  assert.deepEqual(replacing.entries.map((e) => [e.index, e.term]), [[2, 2]]);
  node.accept(replacing);
  node.persisted(2, 1);
  node.persisted(2, 2);
  assert.equal(node.hasReady(), false);
});

test("a bad config fails at construction", () => {
  const state: RaftState = { hardState: { term: 0, vote: 0, commit: 0 }, snapshot: { index: 0, term: 0, conf }, entries: [], applied: 0, conf };
  assert.throws(() => new RawNode({ ...config(1), heartbeatTicks: 10 }, state, seededRandom(1)), /heartbeatTicks/);
  assert.throws(() => new RawNode({ ...config(1), maxInflightMsgs: 0 }, state, seededRandom(1)), /maxInflightMsgs/);
});
