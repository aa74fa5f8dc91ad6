// The consumer groups: members, assignments, generations and committed offsets, changed only by apply.
//
// Ownership is cooperative: the assignor computes each member's target; a partition a member owns but no
// longer targets is revoked from it, and goes to its new owner only once the old one released it
// (GroupRevoked) or left. So no partition ever has two owners. A change of who owns what bumps the
// group's generation, and each member whose own assignment changed takes that generation: a member whose
// partitions stay put keeps its generation, and its commits stay valid.
import { assign, compareTp, tpKey, type AssignorName } from "./assignors";
import { BrokerError, invalidField, unknownTopic } from "./errors";
import type {
  CommitOffsetsCommand,
  DeleteGroupCommand,
  GroupCommand,
  GroupJoinCommand,
  GroupLeaveCommand,
  GroupRevokedCommand,
  ResetOffsetsCommand,
  TopicPartition,
} from "./group-commands";
import { GroupCommandKind } from "./group-commands";
import type { GroupMemberRecord, GroupMutation, GroupRecord, GroupStateName, LoadedGroups, OffsetRecord } from "./group-records";
import {
  groupNotEmpty,
  maxClientIdBytes,
  maxCommitMetadataBytes,
  maxGroups,
  maxMembersPerGroup,
  resolveAssignor,
  unknownGroup,
  unknownMember,
  validateGroupId,
  validateMemberTopics,
  validateSessionTimeout,
  validateShortText,
} from "./group-validation";
import { validatePartition, validateTopicName } from "./validation";

/** What the groups need to know of the topics. */
export interface GroupTopicView {
  /** The live topic's id and partition count, or undefined. */
  liveTopic(name: string): { id: number; partitions: number } | undefined;
  /** [start offset, high watermark] of a live topic's partition. */
  offsetRange(name: string, partition: number): { startOffset: number; highWatermark: number };
  /** The name of a live topic by id, or undefined. */
  topicName(topicId: number): string | undefined;
}

export type GroupResult =
  | { kind: "groupJoined"; groupId: string; memberId: string; replacedMemberId?: string }
  | { kind: "groupLeft"; groupId: string; memberId: string }
  | { kind: "groupRevoked"; groupId: string }
  | { kind: "offsetsCommitted"; groupId: string }
  | { kind: "offsetsReset"; groupId: string }
  | { kind: "groupDeleted"; groupId: string };

export interface GroupOutcome {
  result: GroupResult;
  mutations: GroupMutation[];
}

function offsetKey(topicId: number, partition: number): string {
  return `${topicId}/${partition}`;
}

function minus(a: readonly TopicPartition[], b: readonly TopicPartition[]): TopicPartition[] {
  const drop = new Set(b.map(tpKey));
  return a.filter((tp) => !drop.has(tpKey(tp)));
}

function intersect(a: readonly TopicPartition[], b: readonly TopicPartition[]): TopicPartition[] {
  const keep = new Set(b.map(tpKey));
  return a.filter((tp) => keep.has(tpKey(tp)));
}

/** What a member is told: the partitions it should read, and those it must release. */
export function assignedOf(m: GroupMemberRecord): TopicPartition[] {
  return intersect(m.owned, m.target);
}

export function revokingOf(m: GroupMemberRecord): TopicPartition[] {
  return minus(m.owned, m.target);
}

function viewKey(m: GroupMemberRecord): string {
  return `${assignedOf(m).map(tpKey).join(",")}|${revokingOf(m).map(tpKey).join(",")}`;
}

function cloneGroup(g: GroupRecord): GroupRecord {
  return { ...g, members: g.members.map((m) => ({ ...m, topics: [...m.topics], owned: [...m.owned], target: [...m.target] })) };
}

export function groupStateOf(g: GroupRecord): GroupStateName {
  if (g.members.length === 0) return "EMPTY";
  const owned = new Set(g.members.flatMap((m) => m.owned.map(tpKey)));
  const settled = g.members.every((m) => revokingOf(m).length === 0 && m.target.every((tp) => owned.has(tpKey(tp))));
  return settled ? "STABLE" : "RECONCILING";
}

export class GroupTable {
  private readonly groups = new Map<string, GroupRecord>();
  private readonly offsets = new Map<string, Map<string, OffsetRecord>>();

  static restore(loaded: LoadedGroups | undefined): GroupTable {
    const table = new GroupTable();
    for (const g of loaded?.groups ?? []) {
      table.groups.set(g.groupId, g);
      table.offsets.set(g.groupId, new Map());
    }
    for (const o of loaded?.offsets ?? []) {
      const of = table.offsets.get(o.groupId);
      if (!of) throw new Error(`stored offset for unknown group "${o.groupId}"`);
      of.set(offsetKey(o.topicId, o.partition), o);
    }
    return table;
  }

  /** Applies a group command; throws BrokerError (nothing changed) when it is refused. */
  apply(command: GroupCommand, topics: GroupTopicView): GroupOutcome {
    validateGroupId(command.groupId);
    switch (command.kind) {
      case GroupCommandKind.GroupJoin:
        return this.join(command, topics);
      case GroupCommandKind.GroupLeave:
        return this.leave(command, topics);
      case GroupCommandKind.GroupRevoked:
        return this.revoked(command);
      case GroupCommandKind.CommitOffsets:
        return this.commit(command, topics);
      case GroupCommandKind.ResetOffsets:
        return this.reset(command, topics);
      case GroupCommandKind.DeleteGroup:
        return this.remove(command);
    }
  }

  // ---- queries (results are the table's own records: do not change them) ----

  group(groupId: string): GroupRecord | undefined {
    return this.groups.get(groupId);
  }

  /** Ordered by group id. */
  groupIds(): string[] {
    return [...this.groups.keys()].sort();
  }

  /** The group's committed offsets, in no particular order. */
  committed(groupId: string): OffsetRecord[] {
    return [...(this.offsets.get(groupId)?.values() ?? [])];
  }

  committedOffset(groupId: string, topicId: number, partition: number): OffsetRecord | undefined {
    return this.offsets.get(groupId)?.get(offsetKey(topicId, partition));
  }

  // ---- commands ----

  /** Validation the server runs before proposing a join (apply repeats it). */
  checkJoin(command: Omit<GroupJoinCommand, "kind" | "nowMs" | "memberId">, topics: GroupTopicView): AssignorName {
    validateGroupId(command.groupId);
    validateMemberTopics(command.topics);
    for (const t of command.topics) {
      validateTopicName(t);
      if (!topics.liveTopic(t)) throw unknownTopic(t);
    }
    validateSessionTimeout(command.sessionTimeoutMs);
    validateShortText("client_id", command.clientId, maxClientIdBytes);
    validateShortText("instance_id", command.instanceId, maxClientIdBytes);
    return resolveAssignor(command.assignor);
  }

  private join(command: GroupJoinCommand, topics: GroupTopicView): GroupOutcome {
    const assignor = this.checkJoin(command, topics);
    const existing = this.groups.get(command.groupId);
    if (!existing && this.groups.size >= maxGroups) {
      throw new BrokerError("RESOURCE_EXHAUSTED", "ERROR_REASON_TOO_MANY_GROUPS", `the cluster holds its maximum of ${maxGroups} groups`);
    }
    const g = existing ? cloneGroup(existing) : { groupId: command.groupId, generation: 0, assignor, members: [] };
    if (g.members.some((m) => m.memberId === command.memberId)) throw invalidField(`member id "${command.memberId}" is taken`);
    const mutations: GroupMutation[] = [];
    if (g.members.length === 0) g.assignor = assignor;
    const fields = { clientId: command.clientId, topics: [...command.topics], sessionTimeoutMs: command.sessionTimeoutMs };
    const staticMember = command.instanceId === "" ? undefined : g.members.find((m) => m.instanceId === command.instanceId);
    let replacedMemberId: string | undefined;
    if (staticMember) {
      // A static member's new session: same partitions, same generation, nobody else notices, unless
      // it now subscribes to other topics.
      replacedMemberId = staticMember.memberId;
      const sameTopics = [...staticMember.topics].sort().join(",") === [...command.topics].sort().join(",");
      Object.assign(staticMember, fields, { memberId: command.memberId });
      g.members.sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
      if (!sameTopics) this.rebalance(g, topics, true);
    } else {
      if (g.members.length >= maxMembersPerGroup) {
        throw new BrokerError("RESOURCE_EXHAUSTED", "ERROR_REASON_TOO_MANY_MEMBERS", `group "${g.groupId}" holds its maximum of ${maxMembersPerGroup} members`);
      }
      g.members.push({ memberId: command.memberId, instanceId: command.instanceId, ...fields, generation: g.generation, owned: [], target: [] });
      g.members.sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
      this.rebalance(g, topics, true);
    }
    if (!existing) this.offsets.set(g.groupId, new Map());
    this.groups.set(g.groupId, g);
    mutations.push({ kind: "putGroup", group: g });
    const result: GroupResult = { kind: "groupJoined", groupId: g.groupId, memberId: command.memberId };
    if (replacedMemberId !== undefined) result.replacedMemberId = replacedMemberId;
    return { result, mutations };
  }

  private leave(command: GroupLeaveCommand, topics: GroupTopicView): GroupOutcome {
    const g = cloneGroup(this.requireGroup(command.groupId));
    const index = g.members.findIndex((m) => m.memberId === command.memberId);
    if (index < 0) throw unknownMember(g.groupId, command.memberId);
    g.members.splice(index, 1);
    this.rebalance(g, topics, true);
    this.groups.set(g.groupId, g);
    return { result: { kind: "groupLeft", groupId: g.groupId, memberId: command.memberId }, mutations: [{ kind: "putGroup", group: g }] };
  }

  private revoked(command: GroupRevokedCommand): GroupOutcome {
    const g = cloneGroup(this.requireGroup(command.groupId));
    const m = this.requireMember(g, command.memberId);
    if (command.generation > m.generation) {
      throw invalidField(`generation ${command.generation} is newer than the member's ${m.generation}`);
    }
    const before = new Map(g.members.map((x) => [x.memberId, viewKey(x)]));
    const released = intersect(revokingOf(m), command.partitions);
    m.owned = minus(m.owned, released);
    this.grant(g);
    this.finish(g, before, false);
    this.groups.set(g.groupId, g);
    return { result: { kind: "groupRevoked", groupId: g.groupId }, mutations: [{ kind: "putGroup", group: g }] };
  }

  /** Validation the server runs before proposing a commit (apply repeats it). */
  checkCommit(command: Omit<CommitOffsetsCommand, "kind" | "nowMs">, topics: GroupTopicView): void {
    validateGroupId(command.groupId);
    const g = this.requireGroup(command.groupId);
    if (command.offsets.length === 0) throw invalidField("a commit needs at least one offset");
    const seen = new Set<string>();
    for (const o of command.offsets) {
      validateTopicName(o.topic);
      const topic = topics.liveTopic(o.topic);
      if (!topic) throw unknownTopic(o.topic);
      validatePartition(o.topic, o.partition, topic.partitions);
      if (!Number.isSafeInteger(o.offset) || o.offset < 0) throw invalidField(`offset must not be negative, got ${o.offset}`);
      validateShortText("metadata", o.metadata, maxCommitMetadataBytes);
      const key = tpKey(o);
      if (seen.has(key)) throw invalidField(`partition ${key} appears twice`);
      seen.add(key);
      const { highWatermark } = topics.offsetRange(o.topic, o.partition);
      if (o.offset > highWatermark) {
        throw new BrokerError(
          "OUT_OF_RANGE",
          "ERROR_REASON_OFFSET_OUT_OF_RANGE",
          `offset ${o.offset} is beyond the high watermark ${highWatermark} of "${o.topic}" partition ${o.partition}`,
        );
      }
    }
    const m = this.requireMember(g, command.memberId);
    if (command.generation !== m.generation) {
      throw new BrokerError(
        "FAILED_PRECONDITION",
        "ERROR_REASON_STALE_GENERATION",
        `generation ${command.generation} is not member "${m.memberId}"'s current generation ${m.generation}`,
      );
    }
    const owned = new Set(m.owned.map(tpKey));
    for (const o of command.offsets) {
      if (!owned.has(tpKey(o))) {
        throw new BrokerError("FAILED_PRECONDITION", "ERROR_REASON_NOT_PARTITION_OWNER", `member "${m.memberId}" does not own ${tpKey(o)}`);
      }
      const topicId = (topics.liveTopic(o.topic) as { id: number }).id;
      const current = this.committedOffset(g.groupId, topicId, o.partition);
      if (current && o.offset < current.offset) {
        throw new BrokerError(
          "FAILED_PRECONDITION",
          "ERROR_REASON_OFFSET_BEHIND_COMMITTED",
          `offset ${o.offset} of ${tpKey(o)} is behind the committed ${current.offset}; only ResetOffsets moves an offset back`,
        );
      }
    }
  }

  private commit(command: CommitOffsetsCommand, topics: GroupTopicView): GroupOutcome {
    this.checkCommit(command, topics);
    const of = this.offsets.get(command.groupId) as Map<string, OffsetRecord>;
    const mutations: GroupMutation[] = command.offsets.map((o) => {
      const topicId = (topics.liveTopic(o.topic) as { id: number }).id;
      const record: OffsetRecord = {
        groupId: command.groupId,
        topicId,
        partition: o.partition,
        offset: o.offset,
        metadata: o.metadata,
        committedAtMs: command.nowMs,
      };
      of.set(offsetKey(topicId, o.partition), record);
      return { kind: "putOffset", offset: record };
    });
    return { result: { kind: "offsetsCommitted", groupId: command.groupId }, mutations };
  }

  private reset(command: ResetOffsetsCommand, topics: GroupTopicView): GroupOutcome {
    const existing = this.groups.get(command.groupId);
    if (existing && existing.members.length > 0) throw groupNotEmpty(command.groupId, existing.members.length);
    if (!existing && this.groups.size >= maxGroups) {
      throw new BrokerError("RESOURCE_EXHAUSTED", "ERROR_REASON_TOO_MANY_GROUPS", `the cluster holds its maximum of ${maxGroups} groups`);
    }
    validateTopicName(command.topic);
    const topic = topics.liveTopic(command.topic);
    if (!topic) throw unknownTopic(command.topic);
    for (const o of command.offsets) {
      validatePartition(command.topic, o.partition, topic.partitions);
      const { highWatermark } = topics.offsetRange(command.topic, o.partition);
      if (!Number.isSafeInteger(o.offset) || o.offset < 0 || o.offset > highWatermark) {
        throw new BrokerError("OUT_OF_RANGE", "ERROR_REASON_OFFSET_OUT_OF_RANGE", `offset ${o.offset} is outside [0, ${highWatermark}]`);
      }
    }
    const mutations: GroupMutation[] = [];
    if (!existing) {
      const g: GroupRecord = { groupId: command.groupId, generation: 0, assignor: resolveAssignor(""), members: [] };
      this.groups.set(g.groupId, g);
      this.offsets.set(g.groupId, new Map());
      mutations.push({ kind: "putGroup", group: g });
    }
    const of = this.offsets.get(command.groupId) as Map<string, OffsetRecord>;
    for (const o of command.offsets) {
      const record: OffsetRecord = {
        groupId: command.groupId,
        topicId: topic.id,
        partition: o.partition,
        offset: o.offset,
        metadata: "",
        committedAtMs: command.nowMs,
      };
      of.set(offsetKey(topic.id, o.partition), record);
      mutations.push({ kind: "putOffset", offset: record });
    }
    return { result: { kind: "offsetsReset", groupId: command.groupId }, mutations };
  }

  private remove(command: DeleteGroupCommand): GroupOutcome {
    const g = this.requireGroup(command.groupId);
    if (g.members.length > 0) throw groupNotEmpty(g.groupId, g.members.length);
    const offsets = this.committed(g.groupId).map((o) => ({ topicId: o.topicId, partition: o.partition }));
    this.groups.delete(g.groupId);
    this.offsets.delete(g.groupId);
    return { result: { kind: "groupDeleted", groupId: g.groupId }, mutations: [{ kind: "removeGroup", groupId: g.groupId, offsets }] };
  }

  // ---- assignment ----

  /** New targets from the assignor, then hand out free partitions, then bump generations. */
  private rebalance(g: GroupRecord, topics: GroupTopicView, membershipChanged: boolean): void {
    const before = new Map(g.members.map((m) => [m.memberId, viewKey(m)]));
    const partitionsOf = (topic: string): number => topics.liveTopic(topic)?.partitions ?? 0;
    const target = assign(resolveAssignor(g.assignor), g.members, partitionsOf);
    for (const m of g.members) m.target = target.get(m.memberId) ?? [];
    this.grant(g);
    this.finish(g, before, membershipChanged);
  }

  /** Gives each member the partitions of its target that nobody owns. */
  private grant(g: GroupRecord): void {
    const owned = new Set(g.members.flatMap((m) => m.owned.map(tpKey)));
    for (const m of g.members) {
      const free = m.target.filter((tp) => !owned.has(tpKey(tp)));
      if (free.length === 0) continue;
      for (const tp of free) owned.add(tpKey(tp));
      m.owned = [...m.owned, ...free].sort(compareTp);
    }
  }

  private finish(g: GroupRecord, before: Map<string, string>, membershipChanged: boolean): void {
    const changed = g.members.filter((m) => before.get(m.memberId) !== viewKey(m));
    if (changed.length === 0 && !membershipChanged) return;
    g.generation++;
    for (const m of changed) m.generation = g.generation;
  }

  private requireGroup(groupId: string): GroupRecord {
    const g = this.groups.get(groupId);
    if (!g) throw unknownGroup(groupId);
    return g;
  }

  private requireMember(g: GroupRecord, memberId: string): GroupMemberRecord {
    const m = g.members.find((x) => x.memberId === memberId);
    if (!m) throw unknownMember(g.groupId, memberId);
    return m;
  }
}
