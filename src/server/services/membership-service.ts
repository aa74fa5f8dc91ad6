// Admin's membership rpcs (AddNode, RemoveNode, ReplaceNode, PromoteLearner): validated here, run on the
// leader (forwarded one hop from a follower). A leader asked to remove or replace itself first hands
// leadership to the most caught-up voter and forwards the call there.
import * as grpc from "@grpc/grpc-js";
import type { AdminHandlers } from "../../generated/raftline/v1/Admin";
import type { Membership as MembershipMessage } from "../../generated/raftline/v1/Membership";
import type { AddNodeResponse, AddNodeResponse__Output } from "../../generated/raftline/v1/AddNodeResponse";
import type { PromoteLearnerResponse, PromoteLearnerResponse__Output } from "../../generated/raftline/v1/PromoteLearnerResponse";
import type { RemoveNodeResponse, RemoveNodeResponse__Output } from "../../generated/raftline/v1/RemoveNodeResponse";
import type { ReplaceNodeResponse, ReplaceNodeResponse__Output } from "../../generated/raftline/v1/ReplaceNodeResponse";
import type { ConfState } from "../../raft";
import type { Membership } from "../membership";
import type { NodeContext } from "../node-context";
import { RpcError } from "../rpc-errors";
import { bestFollower, moveLeadership } from "./admin-service";
import { callUnary, deadlineMsOf, invalid, onLeader, unary } from "./rpc";

type MembershipHandlers = Pick<AdminHandlers, "AddNode" | "RemoveNode" | "ReplaceNode" | "PromoteLearner">;

const addressPattern = /^[^:\s]+:\d{1,5}$/;

function nodeIdOf(id: number): number {
  if (!Number.isInteger(id) || id < 1) throw invalid("ERROR_REASON_INVALID_FIELD", `node_id must be a positive integer, got ${id}`);
  return id;
}

function addressOf(field: string, value: string): string {
  if (!addressPattern.test(value)) throw invalid("ERROR_REASON_INVALID_FIELD", `${field} must be HOST:PORT, got "${value}"`);
  return value;
}

function membershipMessage(conf: ConfState): MembershipMessage {
  return { voters: conf.voters, learners: conf.learners };
}

/** Moves leadership away from this node; resolves with the new leader's id. */
async function handOver(ctx: NodeContext, deadlineMs: number): Promise<number> {
  const to = bestFollower(ctx);
  if (!to) throw new RpcError(grpc.status.FAILED_PRECONDITION, "ERROR_REASON_LAST_VOTER", "no other voter to hand leadership to");
  return moveLeadership(ctx, to, deadlineMs);
}

export function membershipService(ctx: NodeContext, membership: Membership): MembershipHandlers {
  return {
    AddNode: unary(ctx, async (call) => {
      const r = call.request;
      const m = { id: nodeIdOf(r.nodeId), clientAddress: addressOf("client_address", r.clientAddress), peerAddress: addressOf("peer_address", r.peerAddress) };
      return onLeader<AddNodeResponse>(
        ctx,
        call,
        "write",
        async () => ({ membership: membershipMessage(await membership.addNode(m, r.stayLearner, deadlineMsOf(call))) }),
        (leader, md, deadline) => callUnary<AddNodeResponse__Output>((cb) => ctx.forwarder.admin(leader).AddNode(r, md, { deadline }, cb)),
      );
    }),
    RemoveNode: unary(ctx, async (call) => {
      const id = nodeIdOf(call.request.nodeId);
      const forward = (leader: number, md: grpc.Metadata, deadline: Date): Promise<RemoveNodeResponse> =>
        callUnary<RemoveNodeResponse__Output>((cb) => ctx.forwarder.admin(leader).RemoveNode(call.request, md, { deadline }, cb));
      return onLeader(
        ctx,
        call,
        "write",
        async () => {
          if (id !== ctx.config.id || !membership.isMember(id) || ctx.replica.membership.voters.length === 1) {
            return { membership: membershipMessage(await membership.removeNode(id, deadlineMsOf(call))) };
          }
          const leader = await handOver(ctx, deadlineMsOf(call));
          return forward(leader, ctx.forwarder.metadata(call.metadata), new Date(deadlineMsOf(call)));
        },
        forward,
      );
    }),
    ReplaceNode: unary(ctx, async (call) => {
      const id = nodeIdOf(call.request.nodeId);
      const forward = (leader: number, md: grpc.Metadata, deadline: Date): Promise<ReplaceNodeResponse> =>
        callUnary<ReplaceNodeResponse__Output>((cb) => ctx.forwarder.admin(leader).ReplaceNode(call.request, md, { deadline }, cb));
      return onLeader(
        ctx,
        call,
        "write",
        async () => {
          if (id !== ctx.config.id || ctx.replica.membership.voters.length === 1) {
            return { membership: membershipMessage(await membership.replaceNode(id, deadlineMsOf(call))) };
          }
          const leader = await handOver(ctx, deadlineMsOf(call));
          return forward(leader, ctx.forwarder.metadata(call.metadata), new Date(deadlineMsOf(call)));
        },
        forward,
      );
    }),
    PromoteLearner: unary(ctx, async (call) => {
      const id = nodeIdOf(call.request.nodeId);
      return onLeader<PromoteLearnerResponse>(
        ctx,
        call,
        "write",
        async () => ({ membership: membershipMessage(await membership.promoteLearner(id, deadlineMsOf(call))) }),
        (leader, md, deadline) => callUnary<PromoteLearnerResponse__Output>((cb) => ctx.forwarder.admin(leader).PromoteLearner(call.request, md, { deadline }, cb)),
      );
    }),
  };
}
