// A snapshot that arrives while committed entries are handed out for apply waits until they are applied:
// an older membership change applied on top of a newer snapshot's membership would diverge the node
// (simulation finding F3).
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfChangeType, encodeConfChange, Entry, EntryType, Message, MessageType, RawNode } from "../../src/raft";
import { newMessage } from "../../src/raft/messages";
import { raftTestConfig } from "../support/raft-test-config";

const config = raftTestConfig(2);

const addLearner4: Entry = { term: 1, index: 1, type: EntryType.ConfChange, data: encodeConfChange({ type: ConfChangeType.AddLearner, nodeId: 4 }) };
const noop: Entry = { term: 1, index: 2, type: EntryType.Normal, data: new Uint8Array() };

function follower(): RawNode {
  const conf = { voters: [1, 2, 3], learners: [] };
  return new RawNode(config, { hardState: { term: 1, vote: 0, commit: 0 }, snapshot: { index: 0, term: 0, conf }, entries: [], applied: 0, conf }, () => 0.5);
}

function append(): Message {
  const m = newMessage(MessageType.App, 1, 2, 1);
  m.entries = [addLearner4, noop];
  m.commit = 2;
  return m;
}

function snapshot(): Message {
  const m = newMessage(MessageType.Snap, 1, 2, 1);
  m.snapshot = { index: 10, term: 1, conf: { voters: [1, 2, 3, 4], learners: [] } };
  return m;
}

test("a snapshot waits while older committed entries are being applied, then installs", () => {
  const node = follower();
  node.step(append());
  const first = node.ready();
  assert.deepEqual(
    first.committedEntries.map((e) => e.index),
    [1, 2],
  );

  // The driver has not applied entries 1..2 yet when the snapshot arrives.
  node.step(snapshot());
  const conf = node.applyConfChange({ type: ConfChangeType.AddLearner, nodeId: 4 });
  assert.deepEqual(conf, { voters: [1, 2, 3], learners: [4] }, "entry 1 applies against the membership it was committed under");
  node.advance(first);

  const refused = node.ready();
  assert.equal(refused.snapshot, undefined, "the snapshot was not restored while entries were being applied");
  const resp = refused.messages.find((m) => m.type === MessageType.AppResp && m.to === 1);
  assert.equal(resp?.index, 2, "the answer tells the leader what is committed here, so it sends the snapshot again");
  node.advance(refused);

  node.step(snapshot());
  const installed = node.ready();
  assert.equal(installed.snapshot?.index, 10);
  node.advance(installed);
  assert.equal(node.status().commit, 10);
});
