// Kafka's consumer-group protocol with client-side assignment: JoinGroup gathers the members, the
// group's leader (a client) computes the assignment and hands it over in SyncGroup, Heartbeat and
// LeaveGroup keep membership. The raft leader coordinates, in memory, as Kafka's coordinator does with
// its own state: when leadership moves, members get NOT_COORDINATOR, find the new leader and rejoin.
// Committed offsets are durable and shared with Raftline's groups (see kafka-offsets.ts).
import { randomUUID } from "node:crypto";
import type { JoinGroupRequest, JoinGroupResponse, SyncGroupRequest, HeartbeatRequest } from "../../kafka/groups";
import { KafkaError } from "../../kafka/protocol";
import type { NodeContext } from "../node-context";

/** Groups held in memory at once, and members per group. */
export const maxKafkaGroups = 10_000;
export const maxKafkaGroupMembers = 1_000;
/** Session timeouts a member may ask for (Kafka's broker defaults: 6 s .. 30 min). */
export const minSessionTimeoutMs = 1_000;
export const maxSessionTimeoutMs = 30 * 60 * 1000;
/** How often sessions and rebalance deadlines are checked. */
export const groupSweepMs = 250;

type GroupState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable";

interface Member {
  memberId: string;
  groupInstanceId: string | null;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: { name: string; metadata: Uint8Array }[];
  lastSeenMs: number;
  assignment: Uint8Array;
  join?: (res: JoinGroupResponse) => void;
  sync?: (res: { errorCode: KafkaError; assignment: Uint8Array }) => void;
}

interface Group {
  state: GroupState;
  protocolType: string;
  protocol: string;
  generation: number;
  leader: string;
  members: Map<string, Member>;
  rebalanceDeadlineMs: number;
}

const empty = new Uint8Array(0);

function joinError(errorCode: KafkaError, memberId = ""): JoinGroupResponse {
  return { errorCode, generationId: -1, protocolName: "", leader: "", memberId, members: [] };
}

export class KafkaGroups {
  private readonly groups = new Map<string, Group>();
  private timer: NodeJS.Timeout | undefined;
  private readonly onRole = (): void => {
    if (!this.ctx.replica.isLeader) this.clear();
  };

  constructor(private readonly ctx: NodeContext) {}

  start(): void {
    this.timer = setInterval(() => this.sweep(this.ctx.now()), groupSweepMs);
    this.ctx.replica.on("role", this.onRole);
  }

  stop(): void {
    clearInterval(this.timer);
    this.ctx.replica.off("role", this.onRole);
    this.clear();
  }

  /** Members of a group as the coordinator sees them (for OffsetCommit's fencing). */
  check(groupId: string, memberId: string, generation: number): KafkaError {
    if (!this.ctx.replica.isLeader) return KafkaError.NotCoordinator;
    const group = this.groups.get(groupId);
    if (generation === -1 && memberId === "") {
      // A commit outside group membership (manual assignment) is taken only while no member is active.
      return group && group.members.size > 0 ? KafkaError.IllegalGeneration : KafkaError.None;
    }
    const member = group?.members.get(memberId);
    if (!group || !member) return KafkaError.UnknownMemberId;
    if (generation !== group.generation) return KafkaError.IllegalGeneration;
    if (group.state === "CompletingRebalance") return KafkaError.RebalanceInProgress;
    member.lastSeenMs = this.ctx.now();
    return KafkaError.None;
  }

  join(req: JoinGroupRequest, clientId: string): Promise<JoinGroupResponse> {
    if (!this.ctx.replica.isLeader) return Promise.resolve(joinError(KafkaError.NotCoordinator));
    if (req.groupId === "") return Promise.resolve(joinError(KafkaError.InvalidGroupId));
    if (req.sessionTimeoutMs < minSessionTimeoutMs || req.sessionTimeoutMs > maxSessionTimeoutMs) {
      return Promise.resolve(joinError(KafkaError.InvalidSessionTimeout));
    }
    if ((this.ctx.machine.state.groups.group(req.groupId)?.members.length ?? 0) > 0) {
      // The id belongs to a group of gRPC members right now: the two protocols do not share a generation.
      return Promise.resolve(joinError(KafkaError.InconsistentGroupProtocol));
    }
    let group = this.groups.get(req.groupId);
    if (!group) {
      if (this.groups.size >= maxKafkaGroups) return Promise.resolve(joinError(KafkaError.CoordinatorNotAvailable));
      group = { state: "Empty", protocolType: req.protocolType, protocol: "", generation: 0, leader: "", members: new Map(), rebalanceDeadlineMs: 0 };
      this.groups.set(req.groupId, group);
    }
    if (group.members.size > 0 && (group.protocolType !== req.protocolType || !this.sharesProtocol(group, req))) {
      return Promise.resolve(joinError(KafkaError.InconsistentGroupProtocol));
    }
    let member = req.memberId === "" ? undefined : group.members.get(req.memberId);
    if (req.memberId !== "" && !member) return Promise.resolve(joinError(KafkaError.UnknownMemberId, req.memberId));
    if (!member) {
      if (group.members.size >= maxKafkaGroupMembers) return Promise.resolve(joinError(KafkaError.GroupMaxSizeReached));
      member = { memberId: `${clientId || "member"}-${randomUUID()}`, groupInstanceId: req.groupInstanceId, sessionTimeoutMs: 0, rebalanceTimeoutMs: 0, protocols: [], lastSeenMs: 0, assignment: empty };
      group.members.set(member.memberId, member);
    }
    group.protocolType = req.protocolType;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    member.protocols = req.protocols;
    member.lastSeenMs = this.ctx.now();
    member.join?.(joinError(KafkaError.RebalanceInProgress, member.memberId));
    const joined = new Promise<JoinGroupResponse>((resolve) => ((member as Member).join = resolve));
    this.prepareRebalance(group);
    this.maybeComplete(group);
    return joined;
  }

  sync(req: SyncGroupRequest): Promise<{ errorCode: KafkaError; assignment: Uint8Array }> {
    const answer = (errorCode: KafkaError): Promise<{ errorCode: KafkaError; assignment: Uint8Array }> => Promise.resolve({ errorCode, assignment: empty });
    if (!this.ctx.replica.isLeader) return answer(KafkaError.NotCoordinator);
    const group = this.groups.get(req.groupId);
    const member = group?.members.get(req.memberId);
    if (!group || !member) return answer(KafkaError.UnknownMemberId);
    if (req.generationId !== group.generation) return answer(KafkaError.IllegalGeneration);
    member.lastSeenMs = this.ctx.now();
    if (group.state === "PreparingRebalance") return answer(KafkaError.RebalanceInProgress);
    if (group.state === "Stable") return Promise.resolve({ errorCode: KafkaError.None, assignment: member.assignment });
    const synced = new Promise<{ errorCode: KafkaError; assignment: Uint8Array }>((resolve) => (member.sync = resolve));
    if (member.memberId === group.leader) {
      const given = new Map(req.assignments.map((a) => [a.memberId, a.assignment]));
      group.state = "Stable";
      for (const m of group.members.values()) {
        m.assignment = given.get(m.memberId) ?? empty;
        m.sync?.({ errorCode: KafkaError.None, assignment: m.assignment });
        m.sync = undefined;
      }
    }
    return synced;
  }

  heartbeat(req: HeartbeatRequest): KafkaError {
    if (!this.ctx.replica.isLeader) return KafkaError.NotCoordinator;
    const group = this.groups.get(req.groupId);
    const member = group?.members.get(req.memberId);
    if (!group || !member) return KafkaError.UnknownMemberId;
    if (req.generationId !== group.generation) return KafkaError.IllegalGeneration;
    member.lastSeenMs = this.ctx.now();
    return group.state === "PreparingRebalance" ? KafkaError.RebalanceInProgress : KafkaError.None;
  }

  leave(groupId: string, memberIds: string[]): { errorCode: KafkaError; members: { memberId: string; errorCode: KafkaError }[] } {
    if (!this.ctx.replica.isLeader) return { errorCode: KafkaError.NotCoordinator, members: [] };
    const group = this.groups.get(groupId);
    const members = memberIds.map((memberId) => {
      const member = group?.members.get(memberId);
      if (!group || !member) return { memberId, errorCode: KafkaError.UnknownMemberId };
      this.remove(group, member);
      return { memberId, errorCode: KafkaError.None };
    });
    if (group) this.rebalanceAfterRemoval(group);
    const errorCode = members.length === 1 ? members[0].errorCode : KafkaError.None;
    return { errorCode, members };
  }

  private sharesProtocol(group: Group, req: JoinGroupRequest): boolean {
    return req.protocols.some((p) => [...group.members.values()].every((m) => m.memberId === req.memberId || m.protocols.some((q) => q.name === p.name)));
  }

  private remove(group: Group, member: Member): void {
    group.members.delete(member.memberId);
    member.join?.(joinError(KafkaError.UnknownMemberId, member.memberId));
    member.sync?.({ errorCode: KafkaError.UnknownMemberId, assignment: empty });
  }

  private rebalanceAfterRemoval(group: Group): void {
    if (group.members.size === 0) {
      group.state = "Empty";
      group.generation++;
      group.leader = "";
      return;
    }
    this.prepareRebalance(group);
    this.maybeComplete(group);
  }

  private prepareRebalance(group: Group): void {
    if (group.state === "PreparingRebalance") return;
    group.state = "PreparingRebalance";
    const longest = Math.max(...[...group.members.values()].map((m) => m.rebalanceTimeoutMs));
    group.rebalanceDeadlineMs = this.ctx.now() + longest;
    for (const m of group.members.values()) {
      m.sync?.({ errorCode: KafkaError.RebalanceInProgress, assignment: empty });
      m.sync = undefined;
    }
  }

  private maybeComplete(group: Group): void {
    if (group.state !== "PreparingRebalance") return;
    if ([...group.members.values()].every((m) => m.join)) this.complete(group);
  }

  private complete(group: Group): void {
    for (const m of [...group.members.values()]) if (!m.join) this.remove(group, m);
    group.generation++;
    if (group.members.size === 0) {
      group.state = "Empty";
      group.leader = "";
      return;
    }
    const members = [...group.members.values()];
    if (!group.members.has(group.leader)) group.leader = members[0].memberId;
    const leader = group.members.get(group.leader) as Member;
    const chosen = leader.protocols.find((p) => members.every((m) => m.protocols.some((q) => q.name === p.name)));
    group.protocol = chosen?.name ?? leader.protocols[0]?.name ?? "";
    group.state = "CompletingRebalance";
    const all = members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.protocols.find((p) => p.name === group.protocol)?.metadata ?? empty }));
    const now = this.ctx.now();
    for (const m of members) {
      m.lastSeenMs = now;
      const join = m.join as (res: JoinGroupResponse) => void;
      m.join = undefined;
      join({ errorCode: KafkaError.None, generationId: group.generation, protocolName: group.protocol, leader: group.leader, memberId: m.memberId, members: m.memberId === group.leader ? all : [] });
    }
  }

  /** Expires silent members and ends rebalances whose deadline passed; forgets empty groups. */
  sweep(nowMs: number): void {
    for (const [id, group] of this.groups) {
      let removed = false;
      for (const m of [...group.members.values()]) {
        if (!m.join && nowMs - m.lastSeenMs > m.sessionTimeoutMs) {
          this.remove(group, m);
          removed = true;
        }
      }
      if (group.state === "PreparingRebalance" && nowMs >= group.rebalanceDeadlineMs) this.complete(group);
      else if (removed) this.rebalanceAfterRemoval(group);
      if (group.members.size === 0) this.groups.delete(id);
    }
  }

  private clear(): void {
    for (const group of this.groups.values()) {
      for (const m of group.members.values()) {
        m.join?.(joinError(KafkaError.NotCoordinator, m.memberId));
        m.sync?.({ errorCode: KafkaError.NotCoordinator, assignment: empty });
      }
    }
    this.groups.clear();
  }
}
