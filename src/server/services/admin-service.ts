// Admin: topics and the cluster. Writes go through the log on the leader; reads answer from the local
// applied state after a read barrier, so a topic created through one node is visible through any other.
import * as grpc from "@grpc/grpc-js";
import { CommandKind, type Command, type TopicInfo } from "../../broker";
import type { AdminHandlers } from "../../generated/raftline/v1/Admin";
import type { DescribeClusterResponse, DescribeClusterResponse__Output } from "../../generated/raftline/v1/DescribeClusterResponse";
import type { CreateTopicResponse, CreateTopicResponse__Output } from "../../generated/raftline/v1/CreateTopicResponse";
import type { DeleteTopicResponse__Output } from "../../generated/raftline/v1/DeleteTopicResponse";
import type { TransferLeadershipResponse, TransferLeadershipResponse__Output } from "../../generated/raftline/v1/TransferLeadershipResponse";
import type { TopicConfig } from "../../generated/raftline/v1/TopicConfig";
import { memberViews, selfInfo } from "../cluster-view";
import type { NodeContext } from "../node-context";
import { ReplicaError } from "../replica-errors";
import { RpcError } from "../rpc-errors";
import { isPlanted } from "../test-plants";
import { pageBounds, pageOf } from "./paging";
import { callUnary, commit, deadlineMsOf, onLeader, unary, unexpected, waitForRole } from "./rpc";
import { LeaderForwarder } from "../leader-forwarder";
import type { Membership } from "../membership";
import { membershipService } from "./membership-service";

/** How long TransferLeadership waits for the new leader to take over. */
const transferWaitMs = 5000;

export function adminService(ctx: NodeContext, membership: Membership): AdminHandlers {
  return {
    ...membershipService(ctx, membership),
    CreateTopic: unary(ctx, (call) =>
      onLeader<CreateTopicResponse>(
        ctx,
        call,
        "write",
        async () => {
          const r = call.request;
          const command: Command = {
            kind: CommandKind.CreateTopic,
            nowMs: ctx.now(),
            name: r.name,
            partitions: r.partitions,
            retentionMs: r.retentionMs,
            retentionBytes: r.retentionBytes,
            maxRecordBytes: r.maxRecordBytes,
            requestId: r.requestId,
          };
          ctx.machine.state.checkCreateTopic(command);
          // A retry of a create already applied: answered without another trip through the log.
          const existing = ctx.machine.state.createdBy(command);
          if (existing) return { topic: topicConfig(existing) };
          const result = await commit(ctx, command, deadlineMsOf(call));
          if (result.kind !== "topicCreated") throw unexpected(result);
          return { topic: topicConfig(result.topic) };
        },
        (leader, md, deadline) => {
          const c = ctx.forwarder.admin(leader);
          return callUnary<CreateTopicResponse__Output>((cb) => c.CreateTopic(call.request, md, { deadline }, cb));
        },
      ),
    ),
    DeleteTopic: unary(ctx, (call) =>
      onLeader(
        ctx,
        call,
        "write",
        async () => {
          if (isPlanted("refusal-writes") && !ctx.machine.state.listTopics().some((t) => t.name === call.request.name)) {
            await commit(ctx, { kind: CommandKind.Tick, nowMs: ctx.now() }, deadlineMsOf(call));
          }
          ctx.machine.state.requireTopic(call.request.name);
          const result = await commit(ctx, { kind: CommandKind.DeleteTopic, nowMs: ctx.now(), name: call.request.name }, deadlineMsOf(call));
          if (result.kind !== "topicDeleted") throw unexpected(result);
          return {};
        },
        (leader, md, deadline) => {
          const c = ctx.forwarder.admin(leader);
          return callUnary<DeleteTopicResponse__Output>((cb) => c.DeleteTopic(call.request, md, { deadline }, cb));
        },
      ),
    ),
    ListTopics: unary(ctx, async (call) => {
      const bounds = pageBounds(call.request);
      await ctx.replica.readBarrier(deadlineMsOf(call));
      const page = await ctx.replica.readLanded(() => pageOf(ctx.machine.state.listTopics(), (t) => t.name, bounds));
      return { topics: page.items.map(topicConfig), nextPageToken: page.nextPageToken };
    }),
    DescribeTopic: unary(ctx, async (call) => {
      await ctx.replica.readBarrier(deadlineMsOf(call));
      const d = await ctx.replica.readLanded(() => ctx.machine.state.describeTopic(call.request.name));
      return {
        topic: topicConfig(d.topic),
        partitions: d.partitions.map((p) => ({
          partition: p.partition,
          startOffset: p.startOffset,
          highWatermark: p.highWatermark,
          bytes: p.bytes,
        })),
      };
    }),
    DescribeCluster: unary(ctx, (call) => {
      // A forwarded DescribeCluster asks for this node's own view only (the leader gathers them).
      if (LeaderForwarder.isForwarded(call.metadata)) return Promise.resolve(selfView(ctx));
      return onLeader(
        ctx,
        call,
        "query",
        () => describeCluster(ctx),
        (leader, _forwardedMd, deadline) => {
          const c = ctx.forwarder.admin(leader);
          // Not marked as forwarded: the leader must gather the whole view, not answer with its own.
          return callUnary<DescribeClusterResponse__Output>((cb) => c.DescribeCluster(call.request, new grpc.Metadata(), { deadline }, cb));
        },
      );
    }),
    TransferLeadership: unary(ctx, (call) =>
      onLeader(
        ctx,
        call,
        "query",
        () => transferLeadership(ctx, call.request.toNodeId, deadlineMsOf(call)),
        (leader, md, deadline) => {
          const c = ctx.forwarder.admin(leader);
          return callUnary<TransferLeadershipResponse__Output>((cb) => c.TransferLeadership(call.request, md, { deadline }, cb));
        },
      ),
    ),
  };
}

function topicConfig(t: TopicInfo): TopicConfig {
  return {
    name: t.name,
    partitions: t.partitions,
    retentionMs: t.retentionMs,
    retentionBytes: t.retentionBytes,
    maxRecordBytes: t.maxRecordBytes,
  };
}

function selfView(ctx: NodeContext): DescribeClusterResponse {
  return { leaderId: ctx.replica.leaderId, nodes: [selfInfo(ctx)], answeredBy: ctx.config.id, clusterId: ctx.clusterId };
}

async function describeCluster(ctx: NodeContext): Promise<DescribeClusterResponse> {
  return { leaderId: ctx.config.id, nodes: await memberViews(ctx), answeredBy: ctx.config.id, clusterId: ctx.clusterId };
}

async function transferLeadership(ctx: NodeContext, to: number, deadlineMs: number): Promise<TransferLeadershipResponse> {
  const previous = ctx.config.id;
  const target = to || bestFollower(ctx);
  if (!target) throw new RpcError(grpc.status.FAILED_PRECONDITION, "ERROR_REASON_FAILED_PRECONDITION", "no follower to transfer leadership to");
  if (target === previous) return { leaderId: previous, previousLeaderId: previous };
  const conf = ctx.replica.membership;
  if (!conf.voters.includes(target) && !conf.learners.includes(target)) {
    throw new RpcError(grpc.status.NOT_FOUND, "ERROR_REASON_UNKNOWN_NODE", `node ${target} is not a member of the cluster`);
  }
  return { leaderId: await moveLeadership(ctx, target, deadlineMs), previousLeaderId: previous };
}

/** Asks `target` to take over and waits until another node leads; resolves with the new leader's id. */
export async function moveLeadership(ctx: NodeContext, target: number, deadlineMs: number): Promise<number> {
  await ctx.replica.transferLeadership(target);
  const moved = (): boolean => !ctx.replica.isLeader && ctx.replica.leaderId !== 0;
  if (!(await waitForRole(ctx, moved, Math.min(deadlineMs, ctx.now() + transferWaitMs)))) {
    throw new ReplicaError("TIMEOUT", `leadership did not move to node ${target} in time`, ctx.replica.leaderId, true);
  }
  return ctx.replica.leaderId;
}

/** The voter with the highest match index: the quickest to take over. */
export function bestFollower(ctx: NodeContext): number {
  const status = ctx.replica.raftNode.status();
  let best = 0;
  let bestMatch = -1;
  for (const p of status.progress) {
    if (p.id === ctx.config.id || p.learner) continue;
    if (p.match > bestMatch) {
      best = p.id;
      bestMatch = p.match;
    }
  }
  return best;
}
