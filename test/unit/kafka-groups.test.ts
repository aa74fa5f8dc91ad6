// The Kafka group coordinator as a scenario: members join and the first becomes the group's leader, the
// leader's SyncGroup hands out assignments, a newcomer makes everyone rejoin under a new generation, a
// silent member is expired, stale generations and unknown members are told so, losing raft leadership
// tells waiting members NOT_COORDINATOR, and an id in use by gRPC members is refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { JoinGroupRequest } from "../../src/kafka/groups";
import { KafkaError } from "../../src/kafka/protocol";
import type { NodeContext } from "../../src/server/node-context";
import { KafkaGroups } from "../../src/server/kafka/kafka-groups";

class FakeNode {
  nowMs = 1_000_000;
  leader = true;
  grpcMembers = 0;
  readonly replica = Object.assign(new EventEmitter(), { isLeader: true });

  ctx(): NodeContext {
    const self = this;
    return {
      replica: this.replica,
      now: () => self.nowMs,
      machine: { state: { groups: { group: () => (self.grpcMembers > 0 ? { members: Array(self.grpcMembers) } : undefined) } } },
    } as unknown as NodeContext;
  }

  loseLeadership(): void {
    this.replica.isLeader = false;
    this.replica.emit("role");
  }
}

function joinRequest(memberId = ""): JoinGroupRequest {
  return {
    groupId: "g",
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    memberId,
    groupInstanceId: null,
    protocolType: "consumer",
    protocols: [{ name: "range", metadata: Uint8Array.of(1) }],
  };
}

function setup(): { node: FakeNode; groups: KafkaGroups } {
  const node = new FakeNode();
  const groups = new KafkaGroups(node.ctx());
  groups.start();
  return { node, groups };
}

test("two members: the first leads, its SyncGroup hands out the assignments", async () => {
  const { groups } = setup();
  try {
    const a = await groups.join(joinRequest(), "a");
    assert.equal(a.errorCode, KafkaError.None);
    assert.equal(a.generationId, 1);
    assert.equal(a.leader, a.memberId);
    const bJoin = groups.join(joinRequest(), "b");
    assert.equal(groups.heartbeat({ groupId: "g", generationId: 1, memberId: a.memberId }), KafkaError.RebalanceInProgress);
    const aAgain = await groups.join(joinRequest(a.memberId), "a");
    const b = await bJoin;
    assert.equal(aAgain.generationId, 2);
    assert.equal(b.generationId, 2);
    assert.equal(aAgain.members.length, 2, "the leader sees every member");
    assert.equal(b.members.length, 0);
    const bSync = groups.sync({ groupId: "g", generationId: 2, memberId: b.memberId, assignments: [] });
    const aSync = await groups.sync({
      groupId: "g",
      generationId: 2,
      memberId: a.memberId,
      assignments: [
        { memberId: a.memberId, assignment: Uint8Array.of(10) },
        { memberId: b.memberId, assignment: Uint8Array.of(20) },
      ],
    });
    assert.deepEqual(aSync, { errorCode: KafkaError.None, assignment: Uint8Array.of(10) });
    assert.deepEqual(await bSync, { errorCode: KafkaError.None, assignment: Uint8Array.of(20) });
    assert.equal(groups.heartbeat({ groupId: "g", generationId: 2, memberId: b.memberId }), KafkaError.None);
    assert.equal(groups.heartbeat({ groupId: "g", generationId: 1, memberId: b.memberId }), KafkaError.IllegalGeneration);
    assert.equal(groups.heartbeat({ groupId: "g", generationId: 2, memberId: "nobody" }), KafkaError.UnknownMemberId);
    assert.equal(groups.check("g", a.memberId, 2), KafkaError.None);
    assert.equal(groups.check("g", "", -1), KafkaError.IllegalGeneration, "no commits outside the group while it has members");
  } finally {
    groups.stop();
  }
});

test("a member silent past its session is expired and the rest rebalance without it", async () => {
  const { node, groups } = setup();
  try {
    const a = await groups.join(joinRequest(), "a");
    const bJoin = groups.join(joinRequest(), "b");
    await groups.join(joinRequest(a.memberId), "a");
    const b = await bJoin;
    node.nowMs += 5_000;
    assert.equal(groups.heartbeat({ groupId: "g", generationId: b.generationId, memberId: b.memberId }), KafkaError.None);
    node.nowMs += 6_000;
    groups.sweep(node.nowMs);
    assert.equal(groups.heartbeat({ groupId: "g", generationId: b.generationId, memberId: a.memberId }), KafkaError.UnknownMemberId);
    assert.equal(groups.heartbeat({ groupId: "g", generationId: b.generationId, memberId: b.memberId }), KafkaError.RebalanceInProgress);
    const alone = await groups.join(joinRequest(b.memberId), "b");
    assert.equal(alone.leader, b.memberId);
    assert.equal(alone.members.length, 1);
  } finally {
    groups.stop();
  }
});

test("a rebalance that some member misses ends at its deadline without that member", async () => {
  const { node, groups } = setup();
  try {
    const a = await groups.join(joinRequest(), "a");
    const bJoin = groups.join(joinRequest(), "b");
    node.nowMs += 30_001;
    groups.sweep(node.nowMs);
    const b = await bJoin;
    assert.equal(b.errorCode, KafkaError.None);
    assert.equal(b.leader, b.memberId);
    assert.equal(groups.heartbeat({ groupId: "g", generationId: b.generationId, memberId: a.memberId }), KafkaError.UnknownMemberId);
  } finally {
    groups.stop();
  }
});

test("losing raft leadership answers waiting members NOT_COORDINATOR and forgets the groups", async () => {
  const { node, groups } = setup();
  try {
    const a = await groups.join(joinRequest(), "a");
    const bJoin = groups.join(joinRequest(), "b");
    node.loseLeadership();
    assert.equal((await bJoin).errorCode, KafkaError.NotCoordinator);
    assert.equal(groups.heartbeat({ groupId: "g", generationId: a.generationId, memberId: a.memberId }), KafkaError.NotCoordinator);
  } finally {
    groups.stop();
  }
});

test("an id gRPC members are using, a bad session timeout, or an unknown member id are refused", async () => {
  const { node, groups } = setup();
  try {
    assert.equal((await groups.join({ ...joinRequest(), sessionTimeoutMs: 10 }, "a")).errorCode, KafkaError.InvalidSessionTimeout);
    assert.equal((await groups.join(joinRequest("made-up"), "a")).errorCode, KafkaError.UnknownMemberId);
    node.grpcMembers = 1;
    assert.equal((await groups.join(joinRequest(), "a")).errorCode, KafkaError.InconsistentGroupProtocol);
  } finally {
    groups.stop();
  }
});
