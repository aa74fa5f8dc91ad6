// ConsumerGroups: the Join stream on the leader, and the unary rpcs, which any node takes and a
// follower forwards to the leader (one hop), so every answer reflects the coordinator's state.
import type * as grpc from "@grpc/grpc-js";
import {
  GroupCommandKind,
  assignedOf,
  groupNotEmpty,
  groupStateOf,
  revokingOf,
  unknownGroup,
  validateGroupId,
  type GroupRecord,
  type GroupStateName,
} from "../../broker";
import type { CommitOffsetsRequest__Output } from "../../generated/raftline/v1/CommitOffsetsRequest";
import type { CommittedOffset } from "../../generated/raftline/v1/CommittedOffset";
import type { ConsumerGroupsClient, ConsumerGroupsHandlers } from "../../generated/raftline/v1/ConsumerGroups";
import type { DescribeGroupResponse } from "../../generated/raftline/v1/DescribeGroupResponse";
import type { GroupState } from "../../generated/raftline/v1/GroupState";
import type { PartitionLag } from "../../generated/raftline/v1/PartitionLag";
import { groupLagReader } from "../group-lag";
import type { NodeContext } from "../node-context";
import { pageBounds, pageOf } from "../services/paging";
import { callUnary, commit, deadlineMsOf, onLeader, onLeaderFresh as onLeaderFreshVia, unary, type CallKind } from "../services/rpc";
import { byTopic } from "./assignment-view";
import type { GroupCoordinator } from "./group-coordinator";
import { serveJoin } from "./join-stream";
import { resetTarget } from "./offset-lookup";

type Call = { metadata: grpc.Metadata; getDeadline(): grpc.Deadline };

/** onLeaderFresh with the forward made on the leader's groups client. */
function onLeaderFresh<Res>(
  ctx: NodeContext,
  call: Call,
  kind: CallKind,
  local: () => Promise<Res> | Res,
  forward: (client: ConsumerGroupsClient, md: grpc.Metadata, deadline: Date, done: grpc.requestCallback<Res>) => void,
): Promise<Res> {
  return onLeaderFreshVia(ctx, call, kind, local, (leader, md, deadline) => callUnary<Res>((cb) => forward(ctx.forwarder.groups(leader), md, deadline, cb)));
}

function stateName(state: GroupStateName): GroupState {
  return `GROUP_STATE_${state}`;
}

function requireGroup(ctx: NodeContext, groupId: string): GroupRecord {
  validateGroupId(groupId);
  const g = ctx.machine.state.groups.group(groupId);
  if (!g) throw unknownGroup(groupId);
  return g;
}

function committedOffsets(ctx: NodeContext, groupId: string, topic: string): CommittedOffset[] {
  const view = ctx.machine.state.topicView;
  return ctx.machine.state.groups
    .committed(groupId)
    .flatMap((o) => {
      const name = view.topicName(o.topicId);
      if (name === undefined || (topic !== "" && name !== topic)) return [];
      return [{ topic: name, partition: o.partition, offset: o.offset, metadata: o.metadata, committedAtMs: o.committedAtMs }];
    })
    .sort((a, b) => (a.topic !== b.topic ? (a.topic < b.topic ? -1 : 1) : a.partition - b.partition));
}

function describe(ctx: NodeContext, coordinator: GroupCoordinator, groupId: string): DescribeGroupResponse {
  const g = requireGroup(ctx, groupId);
  const partitions: PartitionLag[] = groupLagReader(ctx.machine.state)(groupId).map((p) => ({
    topic: p.topic,
    partition: p.partition,
    committedOffset: p.committed ?? -1,
    highWatermark: p.highWatermark,
    logStartOffset: p.logStartOffset,
    lag: p.lag,
    owner: p.owner ?? "",
  }));
  return {
    groupId,
    state: stateName(groupStateOf(g)),
    generation: g.generation,
    assignor: g.assignor,
    members: g.members.map((m) => ({
      memberId: m.memberId,
      instanceId: m.instanceId,
      clientId: m.clientId,
      topics: m.topics,
      sessionTimeoutMs: m.sessionTimeoutMs,
      generation: m.generation,
      assigned: byTopic(assignedOf(m)),
      revoking: byTopic(revokingOf(m)),
      connected: coordinator.isConnected(groupId, m.memberId),
    })),
    partitions,
  };
}

async function commitOffsets(ctx: NodeContext, coordinator: GroupCoordinator, req: CommitOffsetsRequest__Output, deadlineMs: number): Promise<object> {
  const command = {
    groupId: req.groupId,
    memberId: req.memberId,
    generation: req.generation,
    offsets: req.offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset, metadata: o.metadata })),
  };
  // Refuse what apply would refuse without a trip through the log; apply checks again.
  ctx.machine.state.groups.checkCommit(command, ctx.machine.state.topicView);
  coordinator.heard(req.groupId, req.memberId);
  await commit(ctx, { kind: GroupCommandKind.CommitOffsets, nowMs: ctx.now(), ...command }, deadlineMs);
  return {};
}

export function groupsService(ctx: NodeContext, coordinator: GroupCoordinator): ConsumerGroupsHandlers {
  return {
    Join: (call) => serveJoin(ctx, coordinator, call),
    CommitOffsets: unary(ctx, (call) =>
      onLeader(
        ctx,
        call,
        "write",
        () => commitOffsets(ctx, coordinator, call.request, deadlineMsOf(call)),
        (leader, md, deadline) => callUnary((cb) => ctx.forwarder.groups(leader).CommitOffsets(call.request, md, { deadline }, cb)),
      ),
    ),
    FetchOffsets: unary(ctx, (call) =>
      onLeaderFresh(
        ctx,
        call,
        "query",
        () => {
          requireGroup(ctx, call.request.groupId);
          return { offsets: committedOffsets(ctx, call.request.groupId, call.request.topic) };
        },
        (client, md, deadline, cb) => client.FetchOffsets(call.request, md, { deadline }, cb),
      ),
    ),
    ListGroups: unary(ctx, (call) =>
      onLeaderFresh(
        ctx,
        call,
        "query",
        () => {
          const bounds = pageBounds(call.request);
          const groups = ctx.machine.state.groups;
          const page = pageOf(groups.groupIds(), (id) => id, bounds);
          return {
            groups: page.items.map((id) => {
              const g = groups.group(id) as GroupRecord;
              return { groupId: id, state: stateName(groupStateOf(g)), members: g.members.length, generation: g.generation };
            }),
            nextPageToken: page.nextPageToken,
          };
        },
        (client, md, deadline, cb) => client.ListGroups(call.request, md, { deadline }, cb),
      ),
    ),
    DescribeGroup: unary(ctx, (call) =>
      onLeaderFresh(
        ctx,
        call,
        "query",
        () => describe(ctx, coordinator, call.request.groupId),
        (client, md, deadline, cb) => client.DescribeGroup(call.request, md, { deadline }, cb),
      ),
    ),
    DeleteGroup: unary(ctx, (call) =>
      onLeaderFresh(
        ctx,
        call,
        "write",
        async () => {
          requireGroup(ctx, call.request.groupId);
          await coordinator.propose({ kind: GroupCommandKind.DeleteGroup, nowMs: ctx.now(), groupId: call.request.groupId });
          return {};
        },
        (client, md, deadline, cb) => client.DeleteGroup(call.request, md, { deadline }, cb),
      ),
    ),
    ResetOffsets: unary(ctx, (call) =>
      onLeaderFresh(
        ctx,
        call,
        "write",
        async () => {
          const req = call.request;
          validateGroupId(req.groupId);
          const info = ctx.machine.state.requireTopic(req.topic);
          const partitions = req.partitions.length > 0 ? req.partitions : Array.from({ length: info.partitions }, (_, i) => i);
          const offsets: { partition: number; offset: number }[] = [];
          for (const partition of [...new Set(partitions)].sort((a, b) => a - b)) {
            offsets.push({ partition, offset: await resetTarget(ctx, req, partition) });
          }
          const g = ctx.machine.state.groups.group(req.groupId);
          if (g && g.members.length > 0) throw groupNotEmpty(req.groupId, g.members.length);
          const nowMs = ctx.now();
          if (!req.dryRun) await coordinator.propose({ kind: GroupCommandKind.ResetOffsets, nowMs, groupId: req.groupId, topic: req.topic, offsets });
          return { offsets: offsets.map((o) => ({ topic: req.topic, partition: o.partition, offset: o.offset, metadata: "", committedAtMs: req.dryRun ? 0 : nowMs })) };
        },
        (client, md, deadline, cb) => client.ResetOffsets(call.request, md, { deadline }, cb),
      ),
    ),
  };
}
