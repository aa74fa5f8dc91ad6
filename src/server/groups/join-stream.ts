// One member's Join stream: the first request joins (or rejoins), later ones heartbeat, acknowledge
// revocations and leave. Requests are handled one at a time, in order. Only the leader serves Join; a
// follower refuses it with the leader hint, so the member reconnects where the coordinator is.
import * as grpc from "@grpc/grpc-js";
import { GroupCommandKind, defaultSessionTimeoutMs, invalidField, unknownMember, type TopicPartition } from "../../broker";
import type { JoinGroup__Output } from "../../generated/raftline/v1/JoinGroup";
import type { JoinRequest__Output } from "../../generated/raftline/v1/JoinRequest";
import type { JoinResponse } from "../../generated/raftline/v1/JoinResponse";
import type { NodeContext } from "../node-context";
import { ReplicaError } from "../replica-errors";
import { toGrpcError } from "../rpc-errors";
import { asRpcError } from "../services/rpc";
import type { GroupCoordinator, MemberSession } from "./group-coordinator";

type JoinCall = grpc.ServerDuplexStream<JoinRequest__Output, JoinResponse>;

/** How long a join waits for the leader to have applied everything committed before it. */
const readBarrierTimeoutMs = 5000;

export function serveJoin(ctx: NodeContext, coordinator: GroupCoordinator, call: JoinCall): void {
  let session: MemberSession | undefined;
  let done = false;
  let chain = Promise.resolve();

  const finish = (err?: unknown): void => {
    if (done) return;
    done = true;
    if (session) coordinator.detach(session);
    if (err === undefined) call.end();
    else call.emit("error", toGrpcError(asRpcError(err), ctx.clientAddressOf));
  };

  const handle = async (req: JoinRequest__Output): Promise<void> => {
    if (done) return;
    if (!session) {
      if (req.kind !== "join" || !req.join) throw invalidField("the first request of a Join stream must carry `join`");
      session = await join(ctx, coordinator, req.join, call, finish);
      // The client may have gone while the join went through the log: its timeout counts from now.
      if (done) coordinator.detach(session);
      return;
    }
    coordinator.heard(session.groupId, session.memberId);
    switch (req.kind) {
      case "join":
        throw invalidField("a Join stream joins once; open a new stream to join again");
      case "heartbeat":
        return;
      case "revoked": {
        const partitions: TopicPartition[] = (req.revoked?.partitions ?? []).flatMap((tp) => tp.partitions.map((partition) => ({ topic: tp.topic, partition })));
        await coordinator.propose({
          kind: GroupCommandKind.GroupRevoked,
          nowMs: ctx.now(),
          groupId: session.groupId,
          memberId: session.memberId,
          generation: req.revoked?.generation ?? 0,
          partitions,
        });
        return;
      }
      case "leave": {
        const { groupId, memberId } = session;
        coordinator.detach(session);
        await coordinator.propose({ kind: GroupCommandKind.GroupLeave, nowMs: ctx.now(), groupId, memberId, expired: false });
        finish();
        return;
      }
    }
  };

  call.on("data", (req: JoinRequest__Output) => {
    chain = chain.then(() => handle(req)).catch((err: unknown) => finish(err));
  });
  call.on("end", () => {
    chain = chain.then(() => finish());
  });
  call.on("cancelled", () => {
    done = true;
    if (session) coordinator.detach(session);
  });
  call.on("error", () => {
    done = true;
    if (session) coordinator.detach(session);
  });
}

async function join(
  ctx: NodeContext,
  coordinator: GroupCoordinator,
  req: JoinGroup__Output,
  call: JoinCall,
  finish: (err?: unknown) => void,
): Promise<MemberSession> {
  if (!ctx.replica.isLeader) {
    throw new ReplicaError("NOT_LEADER", `node ${ctx.config.id} is not the leader; Join at the leader`, ctx.replica.leaderId, true);
  }
  const sessionTimeoutMs = req.sessionTimeoutMs === 0 ? defaultSessionTimeoutMs : req.sessionTimeoutMs;
  const fields = {
    groupId: req.groupId,
    instanceId: req.instanceId,
    clientId: req.clientId,
    topics: req.topics,
    sessionTimeoutMs,
    assignor: req.assignor,
  };
  // The leader's state must include every committed entry before it judges the request.
  await ctx.replica.readBarrier(ctx.now() + readBarrierTimeoutMs);
  ctx.machine.state.groups.checkJoin(fields, ctx.machine.state.topicView);
  const session = (memberId: string): MemberSession => ({
    groupId: req.groupId,
    memberId,
    push: (response) => {
      call.write(response);
    },
    fail: (err) => finish(err),
  });
  if (req.memberId !== "") {
    const group = ctx.machine.state.groups.group(req.groupId);
    if (!group?.members.some((m) => m.memberId === req.memberId)) throw unknownMember(req.groupId, req.memberId);
    const s = session(req.memberId);
    coordinator.attach(s);
    return s;
  }
  const memberId = coordinator.newMemberId(req.clientId);
  const s = session(memberId);
  // Attached only once the join is applied, so the first push carries the assignment it produced.
  await coordinator.propose({ kind: GroupCommandKind.GroupJoin, nowMs: ctx.now(), memberId, ...fields });
  coordinator.attach(s);
  return s;
}
