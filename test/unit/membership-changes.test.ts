// The leader's membership changes against a stand-in replica over a real broker state: one change at a
// time, documented refusals (unknown ids, the last voter, duplicate ids and addresses, a learner not
// caught up), a replacement as remove-then-add-learner, promotion of caught-up learners unless held, and
// the member records written through the log (incarnations before a vote, the hold, moved addresses).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import pino from "pino";
import { BrokerState, CommandResult } from "../../src/broker";
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

  readonly state = new BrokerState();
  private index = 0;

  constructor(public membership: ConfState) {}

  async propose(data: Uint8Array): Promise<{ index: number; result: CommandResult }> {
    await this.hold;
    this.index++;
    return { index: this.index, result: this.state.apply(this.index, data).result };
  }

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

function setup(conf: ConfState, incarnations = new Map<number, string>(), replica = new FakeReplica(conf)) {
  const book = new AddressBook(
    [1, 2, 3].map((id) => ({ id, clientAddress: `h:${7000 + id}`, peerAddress: `h:${7100 + id}` })),
    () => undefined,
    () => Promise.resolve(),
    logger,
  );
  const ctx = { replica, addressBook: book, logger, machine: { state: replica.state }, now: () => 1000 } as unknown as NodeContext;
  return { replica, book, membership: new Membership(ctx, { incarnationOf: (id) => incarnations.get(id) }) };
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
    const { replica, membership } = setup({ voters: [1, 2, 3], learners: [] }, new Map([[4, "i4"], [5, "i5"]]));
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

  it("holds a learner through the log: a later leader over the same state does not promote it", async () => {
    const first = setup({ voters: [1, 2, 3], learners: [] }, new Map([[4, "i4"]]));
    await first.membership.addNode({ id: 4, clientAddress: "h:7004", peerAddress: "h:7104" }, true, far);
    assert.equal(first.replica.state.member(4)?.stayLearner, true);
    const next = setup(first.replica.membership, new Map([[4, "i4"]]), first.replica);
    first.replica.progress = [{ id: 4, match: 5000, learner: true }];
    assert.equal(await next.membership.promoteCaughtUp(far), undefined);
    await next.membership.promoteLearner(4, far);
    assert.deepEqual(first.replica.state.member(4), { id: 4, incarnation: "i4", stayLearner: false, clientAddress: "h:7004", peerAddress: "h:7104" });
  });

  it("records a learner's incarnation before it may vote, and refuses to promote one never heard from", async () => {
    const incarnations = new Map<number, string>();
    const { replica, membership } = setup({ voters: [1, 2, 3], learners: [] }, incarnations);
    await membership.addNode({ id: 4, clientAddress: "h:7004", peerAddress: "h:7104" }, false, far);
    replica.progress = [{ id: 4, match: 5000, learner: true }];
    await refused(membership.promoteLearner(4, far), "ERROR_REASON_LEARNER_NOT_CAUGHT_UP");
    incarnations.set(4, "i4");
    await membership.promoteLearner(4, far);
    assert.equal(replica.state.member(4)?.incarnation, "i4");
    assert.deepEqual(replica.changes.at(-1), { type: ConfChangeType.AddVoter, nodeId: 4 });
  });

  it("records the founders' incarnations once, a learner's new one, never a voter's changed one", async () => {
    const incarnations = new Map([[1, "i1"], [2, "i2"], [4, "i4"]]);
    const { replica, membership } = setup({ voters: [1, 2, 3], learners: [4] }, incarnations);
    assert.deepEqual(await membership.recordIncarnations(far), [1, 2, 4], "3 not heard from yet");
    assert.deepEqual(await membership.recordIncarnations(far), [], "nothing new");
    incarnations.set(2, "i2-wiped");
    incarnations.set(4, "i4-new");
    assert.deepEqual(await membership.recordIncarnations(far), [4]);
    assert.equal(replica.state.member(2)?.incarnation, "i2");
    assert.equal(replica.state.member(1)?.clientAddress, "h:7001", "records carry the member's addresses");
  });

  it("a replacement clears the recorded incarnation, so the next one is recorded once heard from", async () => {
    const incarnations = new Map([[2, "i2"]]);
    const { replica, membership } = setup({ voters: [1, 2, 3], learners: [] }, incarnations);
    await membership.recordIncarnations(far);
    await membership.replaceNode(2, far);
    assert.equal(replica.state.member(2)?.incarnation, "");
    incarnations.set(2, "i2-new");
    assert.deepEqual(await membership.recordIncarnations(far), [2]);
    assert.equal(replica.state.member(2)?.incarnation, "i2-new");
  });

  it("adds a former member's id back at new addresses: the address book moves it", async () => {
    const { replica, book, membership } = setup({ voters: [1, 2], learners: [] });
    await membership.addNode({ id: 3, clientAddress: "h:8003", peerAddress: "h:8103" }, false, far);
    assert.deepEqual(book.get(3), { id: 3, clientAddress: "h:8003", peerAddress: "h:8103" });
    assert.deepEqual(replica.state.member(3), { id: 3, incarnation: "", stayLearner: false, clientAddress: "h:8003", peerAddress: "h:8103" });
  });
});
