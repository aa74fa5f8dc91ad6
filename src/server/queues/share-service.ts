// ShareGroups: the Receive stream on the leader, and the unary rpcs, which any node takes and a follower
// forwards to the leader (one hop), so every answer reflects the dispatcher's state.
import type * as grpc from "@grpc/grpc-js";
import {
  BrokerError,
  CommandKind,
  ShareCommandKind,
  invalidField,
  maxPopTimeoutMs,
  maxRecordBytesCeiling,
  maxRecordsPerShareCall,
  resolveShareConfig,
  shareGroupInUse,
  validateConsumerId,
  validateGroupId,
  validateTopicName,
  type ShareGroupRecord,
} from "../../broker";
import type { CreateShareGroupRequest__Output } from "../../generated/raftline/v1/CreateShareGroupRequest";
import type { CreateShareGroupResponse } from "../../generated/raftline/v1/CreateShareGroupResponse";
import type { DeleteShareGroupRequest__Output } from "../../generated/raftline/v1/DeleteShareGroupRequest";
import type { DeleteShareGroupResponse } from "../../generated/raftline/v1/DeleteShareGroupResponse";
import type { DescribeShareGroupResponse } from "../../generated/raftline/v1/DescribeShareGroupResponse";
import type { PopRequest__Output } from "../../generated/raftline/v1/PopRequest";
import type { PopResponse } from "../../generated/raftline/v1/PopResponse";
import type { ShareGroupsClient, ShareGroupsHandlers } from "../../generated/raftline/v1/ShareGroups";
import type { Abortable } from "../apply-signal";
import type { NodeContext } from "../node-context";
import { callUnary, commit, deadlineMsOf, onLeaderCurrent as onLeaderCurrentVia, onLeaderFresh as onLeaderFreshVia, unary, type CallKind } from "../services/rpc";
import { shareDepths } from "../share-depth";
import { encodePopResponse } from "./delivery-wire";
import { serveReceive } from "./receive-stream";
import type { ReceiveRequest__Output } from "../../generated/raftline/v1/ReceiveRequest";
import type { ReceiveResponse } from "../../generated/raftline/v1/ReceiveResponse";
import { answerAcks } from "./share-acks";
import { configIn, configOut } from "./share-config";
import type { ShareDispatcher } from "./share-dispatcher";

type Call = { metadata: grpc.Metadata; getDeadline(): grpc.Deadline };

/** Room a dead letter's added headers need beyond the source topic's record limit. */
const deadLetterHeaderBytes = 64 * 1024;

/** onLeaderFresh with the forward made on the leader's shares client. */
function onLeaderFresh<Res>(
  ctx: NodeContext,
  call: Call,
  kind: CallKind,
  local: () => Promise<Res> | Res,
  forward: (client: ShareGroupsClient, md: grpc.Metadata, deadline: Date, done: grpc.requestCallback<Res>) => void,
): Promise<Res> {
  return onLeaderFreshVia(ctx, call, kind, local, (leader, md, deadline) => callUnary<Res>((cb) => forward(ctx.forwarder.shares(leader), md, deadline, cb)));
}

/** onLeaderCurrent with the forward made on the leader's shares client. */
function onLeaderCurrent<Res>(
  ctx: NodeContext,
  call: Call,
  local: () => Promise<Res>,
  forward: (client: ShareGroupsClient, md: grpc.Metadata, deadline: Date, done: grpc.requestCallback<Res>) => void,
): Promise<Res> {
  return onLeaderCurrentVia(ctx, call, local, (leader, md, deadline) => callUnary<Res>((cb) => forward(ctx.forwarder.shares(leader), md, deadline, cb)));
}

async function createShareGroup(ctx: NodeContext, dispatcher: ShareDispatcher, req: CreateShareGroupRequest__Output, deadlineMs: number): Promise<CreateShareGroupResponse> {
  validateGroupId(req.groupId);
  validateTopicName(req.topic);
  const config = resolveShareConfig(req.groupId, req.topic, configIn(req.config));
  const source = ctx.machine.state.requireTopic(req.topic);
  ctx.machine.state.shares.checkCreate(req.groupId, req.topic, ctx.machine.state.topicView);
  if (!ctx.machine.state.topic(config.deadLetterTopic)) {
    try {
      await commit(
        ctx,
        {
          kind: CommandKind.CreateTopic,
          nowMs: ctx.now(),
          name: config.deadLetterTopic,
          partitions: 1,
          retentionMs: 0,
          retentionBytes: 0,
          maxRecordBytes: Math.min(maxRecordBytesCeiling, source.maxRecordBytes + deadLetterHeaderBytes),
        },
        deadlineMs,
      );
    } catch (err) {
      // Created meanwhile by another caller: just as good.
      if (!(err instanceof BrokerError && err.reason === "ERROR_REASON_TOPIC_EXISTS")) throw err;
    }
  }
  const result = await dispatcher.propose({ kind: ShareCommandKind.ShareCreate, nowMs: ctx.now(), groupId: req.groupId, topic: req.topic, config, replace: req.replaceConfig });
  if (result.kind !== "shareGroupCreated") throw invalidField("unexpected answer");
  return { topic: result.group.topic, config: configOut(result.group.config), created: result.created };
}

async function pop(ctx: NodeContext, dispatcher: ShareDispatcher, req: PopRequest__Output, call: Abortable): Promise<Buffer> {
  validateGroupId(req.groupId);
  validateConsumerId(req.consumerId, false);
  if (req.maxRecords < 0 || req.maxRecords > maxRecordsPerShareCall) throw invalidField(`max_records must be in 0..${maxRecordsPerShareCall}, got ${req.maxRecords}`);
  if (req.timeoutMs < 0 || req.timeoutMs > maxPopTimeoutMs) throw invalidField(`timeout_ms must be in 0..${maxPopTimeoutMs}, got ${req.timeoutMs}`);
  const state = ctx.machine.state;
  state.shares.requireLive(req.groupId, state.topicView);
  const consumerId = req.consumerId || dispatcher.newConsumerId("pop");
  return encodePopResponse(consumerId, await dispatcher.pop(req.groupId, consumerId, req.maxRecords || 1, req.timeoutMs, call));
}

/**
 * Refused before proposing when the group is unknown or in use (so a refusal writes nothing to the log);
 * apply checks the locks again at the command's time. Open Receive streams live on this node (the
 * leader) only, so only this check sees them.
 */
async function deleteShareGroup(ctx: NodeContext, dispatcher: ShareDispatcher, req: DeleteShareGroupRequest__Output): Promise<DeleteShareGroupResponse> {
  const state = ctx.machine.state;
  state.shares.checkDelete(req.groupId, ctx.now(), req.force, state.topicView);
  if (!req.force && dispatcher.hasReceivers(req.groupId)) {
    throw shareGroupInUse(req.groupId, `${dispatcher.consumersOf(req.groupId).length} consumer(s) have a Receive stream open`);
  }
  const result = await dispatcher.propose({ kind: ShareCommandKind.ShareDelete, nowMs: ctx.now(), groupId: req.groupId, force: req.force });
  if (result.kind !== "shareGroupDeleted") throw invalidField("unexpected answer");
  return { topic: result.topic, abandonedLocks: result.abandonedLocks };
}

function describe(ctx: NodeContext, dispatcher: ShareDispatcher, groupId: string): DescribeShareGroupResponse {
  const state = ctx.machine.state;
  const group: ShareGroupRecord = state.shares.requireLive(groupId, state.topicView);
  // requireLive: the topic is the group's, so every partition has its high watermark.
  const partitions = shareDepths(state, groupId, ctx.now()).map(({ unsettled, highWatermark, ...c }) => ({ ...c, highWatermark: highWatermark ?? c.startOffset, lag: unsettled ?? 0 }));
  return {
    groupId,
    topic: group.topic,
    config: configOut(group.config),
    partitions,
    consumers: dispatcher.consumersOf(groupId),
    acceptedTotal: group.acceptedTotal,
    deadLetteredTotal: group.deadLetteredTotal,
  };
}

/** Handlers for shareGroupsServiceDefinition: Receive's deliveries and Pop's answer may be pre-encoded bytes. */
export interface ShareGroupsWireHandlers extends Omit<ShareGroupsHandlers, "Pop" | "Receive"> {
  Pop: grpc.handleUnaryCall<PopRequest__Output, PopResponse | Buffer>;
  Receive: grpc.handleBidiStreamingCall<ReceiveRequest__Output, ReceiveResponse | Buffer>;
}

export function shareGroupsService(ctx: NodeContext, dispatcher: ShareDispatcher): ShareGroupsWireHandlers {
  return {
    CreateShareGroup: unary(ctx, (call) =>
      onLeaderFresh(
        ctx,
        call,
        "write",
        () => createShareGroup(ctx, dispatcher, call.request, deadlineMsOf(call)),
        (client, md, deadline, cb) => client.CreateShareGroup(call.request, md, { deadline }, cb),
      ),
    ),
    Receive: (call) => serveReceive(ctx, dispatcher, call),
    Pop: unary(ctx, (call) =>
      onLeaderCurrent(
        ctx,
        call,
        (): Promise<PopResponse | Buffer> => pop(ctx, dispatcher, call.request, call),
        (client, md, deadline, cb) => client.Pop(call.request, md, { deadline }, cb),
      ),
    ),
    Ack: unary(ctx, (call) =>
      onLeaderCurrent(
        ctx,
        call,
        async () => ({ results: await answerAcks(ctx, dispatcher, call.request.groupId, call.request.consumerId, call.request.acks, true) }),
        (client, md, deadline, cb) => client.Ack(call.request, md, { deadline }, cb),
      ),
    ),
    DescribeShareGroup: unary(ctx, (call) =>
      onLeaderFresh(
        ctx,
        call,
        "query",
        () => describe(ctx, dispatcher, call.request.groupId),
        (client, md, deadline, cb) => client.DescribeShareGroup(call.request, md, { deadline }, cb),
      ),
    ),
    ListShareGroups: unary(ctx, (call) =>
      onLeaderFresh(
        ctx,
        call,
        "query",
        () => {
          const shares = ctx.machine.state.shares;
          return { groups: shares.groupIds().map((groupId) => ({ groupId, topic: shares.group(groupId)?.topic ?? "" })) };
        },
        (client, md, deadline, cb) => client.ListShareGroups(call.request, md, { deadline }, cb),
      ),
    ),
    DeleteShareGroup: unary(ctx, (call) =>
      onLeaderFresh(
        ctx,
        call,
        "write",
        () => deleteShareGroup(ctx, dispatcher, call.request),
        (client, md, deadline, cb) => client.DeleteShareGroup(call.request, md, { deadline }, cb),
      ),
    ),
  };
}
