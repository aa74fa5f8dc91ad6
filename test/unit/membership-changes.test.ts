// The leader's membership changes against a stand-in replica: one change at a time, documented
// refusals (unknown ids, the last voter, duplicate ids and addresses, a learner not caught up), a
// replacement as remove-then-add-learner, and promotion of caught-up learners unless held.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import pino from "pino";
import { ConfChangeType, type ConfChange, type ConfState } from "../../src/raft";
import { AddressBook } from "../../src/server/address-book";
import { Membership } from "../../src/server/membership";
import type { NodeContext } from "../../src/server/node-context";
import { RpcError } from "../../src/server/rpc-errors";

const logger = pino({ level: "silent" });

class FakeReplica {
  isLeader = true;
  changes: ConfChange[] = [];
  /** When set, changes wait for release(). */
  hold: Promise<void> | undefined;
  progress: { id: number; match: number; learner: boolean }[] = [];
  lastIndex = 5000;

  constructor(public membership: ConfState) {}

  async changeMembership(cc: ConfChange): Promise<ConfState> {
    await this.hold;
    this.changes.push(cc);
    const voters = this.membership.voters.filter((id) => id !== cc.nodeId);
    const learners = this.membership.learners.filter((id) => id !== cc.nodeId);
    if (cc.type === ConfChangeType.AddVoter) voters.push(cc.nodeId);
    if (cc.type === ConfChangeType.AddLearner) learners.push(cc.nodeId);
    this.membership = { voters: voters.sort(), learners: learners.sort() };
    return this.membership;
  }

  get raftNode() {
    return { status: () => ({ lastIndex: this.lastIndex, progress: this.progress }) };
  }
}

function setup(conf: ConfState) {
  const replica = new FakeReplica(conf);
  const book = new AddressBook(
    [1, 2, 3].map((id) => ({ id, clientAddress: `h:${7000 + id}`, peerAddress: `h:${7100 + id}` })),
    () => undefined,
    () => Promise.resolve(),
    logger,
  );
  const ctx = { replica, addressBook: book, logger } as unknown as NodeContext;
  return { replica, membership: new Membership(ctx) };
}

async function refused(p: Promise<unknown>, reason: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof RpcError, String(err));
    assert.equal(err.reason, reason, err.message);
    return true;
  });
}

const far = Date.now() + 60000;

describe("membership changes", () => {
  it("adds a node as a learner and refuses a member's id or address", async () => {
    const { replica, membership } = setup({ voters: [1, 2, 3], learners: [] });
    assert.deepEqual(await membership.addNode({ id: 4, clientAddress: "h:7004", peerAddress: "h:7104" }, false, far), { voters: [1, 2, 3], learners: [4] });
    await refused(membership.addNode({ id: 4, clientAddress: "h:7004", peerAddress: "h:7104" }, false, far), "ERROR_REASON_NODE_EXISTS");
    await refused(membership.addNode({ id: 5, clientAddress: "h:7001", peerAddress: "h:7105" }, false, far), "ERROR_REASON_NODE_EXISTS");
    await refused(membership.addNode({ id: 5, clientAddress: "h:7005", peerAddress: "h:7102" }, false, far), "ERROR_REASON_NODE_EXISTS");
    assert.deepEqual(replica.changes, [{ type: ConfChangeType.AddLearner, nodeId: 4 }]);
  });

  it("refuses unknown ids and removing the last voter", async () => {
    const { replica, membership } = setup({ voters: [1], learners: [2] });
    await refused(membership.removeNode(9, far), "ERROR_REASON_UNKNOWN_NODE");
    await refused(membership.replaceNode(9, far), "ERROR_REASON_UNKNOWN_NODE");
    await refused(membership.promoteLearner(1, far), "ERROR_REASON_UNKNOWN_NODE");
    await refused(membership.removeNode(1, far), "ERROR_REASON_LAST_VOTER");
    await refused(membership.replaceNode(1, far), "ERROR_REASON_LAST_VOTER");
    assert.deepEqual(replica.changes, []);
  });

  it("runs one change at a time: a second one while the first is in flight is refused, retriable", async () => {
    const { replica, membership } = setup({ voters: [1, 2, 3], learners: [] });
    let release = (): void => undefined;
    replica.hold = new Promise((r) => (release = r));
    const first = membership.removeNode(3, far);
    await refused(membership.removeNode(2, far), "ERROR_REASON_MEMBERSHIP_CHANGE_IN_PROGRESS");
    release();
    assert.deepEqual(await first, { voters: [1, 2], learners: [] });
    assert.deepEqual(await membership.removeNode(2, far), { voters: [1], learners: [] }, "accepted once the first completed");
  });

  it("replaces a node by removing it and adding it back as a learner", async () => {
    const { replica, membership } = setup({ voters: [1, 2, 3], learners: [] });
    assert.deepEqual(await membership.replaceNode(2, far), { voters: [1, 3], learners: [2] });
    assert.deepEqual(replica.changes, [
      { type: ConfChangeType.RemoveVoter, nodeId: 2 },
      { type: ConfChangeType.AddLearner, nodeId: 2 },
    ]);
  });

  it("promotes a learner only once caught up, and a held one only when asked", async () => {
    const { replica, membership } = setup({ voters: [1, 2, 3], learners: [] });
    await membership.addNode({ id: 4, clientAddress: "h:7004", peerAddress: "h:7104" }, true, far);
    await membership.addNode({ id: 5, clientAddress: "h:7005", peerAddress: "h:7105" }, false, far);
    replica.progress = [
      { id: 4, match: 4990, learner: true },
      { id: 5, match: 100, learner: true },
    ];
    assert.equal(await membership.promoteCaughtUp(far), undefined, "4 is held, 5 trails by 4900 entries");
    await refused(membership.promoteLearner(5, far), "ERROR_REASON_LEARNER_NOT_CAUGHT_UP");
    replica.progress[1].match = 4500;
    assert.equal(await membership.promoteCaughtUp(far), 5);
    assert.deepEqual(await membership.promoteLearner(4, far), { voters: [1, 2, 3, 4, 5], learners: [] });
  });
});
