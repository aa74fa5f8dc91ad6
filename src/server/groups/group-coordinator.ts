// The group coordinator, active on the raft leader: it holds the members' Join streams, proposes the
// group commands, pushes each member its assignment whenever it changes, and decides session expiry.
// Everything it decides goes through the log; what it keeps in memory (open streams, when each member
// was last heard from) is rebuilt on a new leader, which gives every member a full session timeout to
// reconnect.
import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { Role } from "../../raft";
import { GroupCommandKind, revokingOf, type GroupCommand, type GroupResult } from "../../broker";
import type { JoinResponse } from "../../generated/raftline/v1/JoinResponse";
import type { NodeContext } from "../node-context";
import { ReplicaError } from "../replica-errors";
import { RpcError } from "../rpc-errors";
import { commit, unexpected } from "../services/rpc";
import { assignmentOf, viewKeyOf } from "./assignment-view";

/** How often the leader looks for expired sessions. */
export const expiryCheckMs = 200;
/** Deadline of a command the coordinator proposes. */
export const groupCommandDeadlineMs = 10_000;

/** One member's open Join stream on this node. */
export interface MemberSession {
  groupId: string;
  memberId: string;
  push(response: JoinResponse): void;
  /** Ends the stream with this error. */
  fail(err: RpcError | ReplicaError): void;
}

function keyOf(groupId: string, memberId: string): string {
  return `${groupId}\u0000${memberId}`;
}

export class GroupCoordinator {
  private readonly sessions = new Map<string, MemberSession>();
  private readonly pushed = new Map<string, string>();
  private readonly lastSeenMs = new Map<string, number>();
  private readonly expiring = new Set<string>();
  /** Since when each member has had partitions to release (in memory: a new leader starts the count again). */
  private readonly revokingSinceMs = new Map<string, number>();
  private leaderSinceMs = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: NodeContext) {
    ctx.replica.on("role", (role: Role) => this.onRole(role));
    if (ctx.replica.isLeader) this.leaderSinceMs = ctx.now();
  }

  start(): void {
    this.timer = setInterval(() => this.expireSessions(), expiryCheckMs);
  }

  stop(): void {
    clearInterval(this.timer);
    for (const s of [...this.sessions.values()]) s.fail(this.notLeader());
    this.sessions.clear();
  }

  /** Is a stream for this member open here? */
  isConnected(groupId: string, memberId: string): boolean {
    return this.sessions.has(keyOf(groupId, memberId));
  }

  newMemberId(clientId: string): string {
    return `${clientId || "member"}-${randomUUID()}`;
  }

  /** Proposes a group command on the leader, then pushes every changed assignment of its group. */
  async propose(command: GroupCommand): Promise<GroupResult> {
    const result = await commit(this.ctx, command, this.ctx.now() + groupCommandDeadlineMs);
    if (!isGroupResult(result)) throw unexpected(result);
    if (result.kind === "groupJoined" && result.replacedMemberId !== undefined) {
      const old = this.sessions.get(keyOf(result.groupId, result.replacedMemberId));
      old?.fail(new RpcError(status.FAILED_PRECONDITION, "ERROR_REASON_FENCED_INSTANCE", "a newer session with this member's instance id took its place"));
    }
    this.refresh(command.groupId);
    return result;
  }

  attach(session: MemberSession): void {
    const key = keyOf(session.groupId, session.memberId);
    if (this.sessions.has(key)) {
      throw new RpcError(status.ALREADY_EXISTS, "ERROR_REASON_MEMBER_ALREADY_JOINED", `member "${session.memberId}" already has an open session`);
    }
    this.sessions.set(key, session);
    this.pushed.delete(key);
    this.heard(session.groupId, session.memberId);
    this.refresh(session.groupId);
  }

  /** The stream ended: the session timeout counts from now. */
  detach(session: MemberSession): void {
    const key = keyOf(session.groupId, session.memberId);
    if (this.sessions.get(key) !== session) return;
    this.sessions.delete(key);
    this.pushed.delete(key);
    this.heard(session.groupId, session.memberId);
  }

  heard(groupId: string, memberId: string): void {
    this.lastSeenMs.set(keyOf(groupId, memberId), this.ctx.now());
  }

  /** Pushes each connected member of the group its assignment if it changed; ends removed members' streams. */
  refresh(groupId: string): void {
    const group = this.ctx.machine.state.groups.group(groupId);
    for (const [key, session] of this.sessions) {
      if (session.groupId !== groupId) continue;
      const member = group?.members.find((m) => m.memberId === session.memberId);
      if (!group || !member) {
        session.fail(new RpcError(status.FAILED_PRECONDITION, "ERROR_REASON_UNKNOWN_MEMBER", `member "${session.memberId}" was removed from the group (session expired or left)`));
        this.sessions.delete(key);
        continue;
      }
      const response = assignmentOf(member, group.assignor);
      const view = viewKeyOf(response);
      if (this.pushed.get(key) === view) continue;
      this.pushed.set(key, view);
      session.push(response);
    }
  }

  private onRole(role: Role): void {
    if (role === Role.Leader) {
      this.leaderSinceMs = this.ctx.now();
      this.lastSeenMs.clear();
      this.revokingSinceMs.clear();
      return;
    }
    // Members must follow the leadership: end their streams, naming the new leader when known.
    for (const s of [...this.sessions.values()]) s.fail(this.notLeader());
    this.sessions.clear();
    this.pushed.clear();
  }

  private notLeader(): ReplicaError {
    return new ReplicaError("NOT_LEADER", "the group coordinator moved with the raft leadership; rejoin at the leader", this.ctx.replica.leaderId, true);
  }

  /**
   * Removes, through the log, every member not heard from for its session timeout, and every member that
   * held on to revoked partitions for as long (a member that never releases would stall the group).
   */
  private expireSessions(): void {
    if (!this.ctx.replica.isLeader) return;
    const now = this.ctx.now();
    const groups = this.ctx.machine.state.groups;
    const stillRevoking = new Set<string>();
    const members = new Set<string>();
    for (const groupId of groups.groupIds()) {
      for (const member of groups.group(groupId)?.members ?? []) {
        const key = keyOf(groupId, member.memberId);
        members.add(key);
        if (revokingOf(member).length > 0) {
          stillRevoking.add(key);
          if (!this.revokingSinceMs.has(key)) this.revokingSinceMs.set(key, now);
        }
        const seen = this.lastSeenMs.get(key) ?? this.leaderSinceMs;
        const silent = now - Math.max(seen, this.leaderSinceMs) > member.sessionTimeoutMs;
        const stuck = now - (this.revokingSinceMs.get(key) ?? now) > member.sessionTimeoutMs;
        if ((!silent && !stuck) || this.expiring.has(key)) continue;
        this.expiring.add(key);
        const why = silent ? "consumer group session expired" : "consumer group member did not release revoked partitions in time";
        this.ctx.logger.info({ groupId, memberId: member.memberId, silentMs: now - seen }, why);
        this.propose({ kind: GroupCommandKind.GroupLeave, nowMs: now, groupId, memberId: member.memberId, expired: true })
          .catch((err: unknown) => this.ctx.logger.warn({ err, groupId }, "session expiry not committed; retrying"))
          .finally(() => {
            this.expiring.delete(key);
            this.lastSeenMs.delete(key);
          });
      }
    }
    for (const key of this.revokingSinceMs.keys()) if (!stillRevoking.has(key)) this.revokingSinceMs.delete(key);
    // Members that left or expired are forgotten here too, so the map holds live members only.
    for (const key of this.lastSeenMs.keys()) if (!members.has(key)) this.lastSeenMs.delete(key);
  }
}

function isGroupResult(result: { kind: string }): result is GroupResult {
  return ["groupJoined", "groupLeft", "groupRevoked", "offsetsCommitted", "offsetsReset", "groupDeleted"].includes(result.kind);
}
