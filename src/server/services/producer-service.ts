// Producer: Produce (unary), ProduceStream (bidi, pipelined) and InitProducer. The leader plans each
// request (validate, choose partitions, encode each partition's records once) and proposes it as one
// command; followers forward one hop to the leader. Idempotent batches are judged at apply, where the
// producers' sequence state is (see broker/producer-table.ts).
import * as grpc from "@grpc/grpc-js";
import { CommandKind, encodeCommand, planProduce, produceOutcome, type AppendedBatch } from "../../broker";
import type { InitProducerRequest__Output } from "../../generated/raftline/v1/InitProducerRequest";
import type { InitProducerResponse, InitProducerResponse__Output } from "../../generated/raftline/v1/InitProducerResponse";
import type { ProduceRequest__Output } from "../../generated/raftline/v1/ProduceRequest";
import type { ProduceResponse, ProduceResponse__Output } from "../../generated/raftline/v1/ProduceResponse";
import type { ProducerHandlers } from "../../generated/raftline/v1/Producer";
import type { NodeContext } from "../node-context";
import type { Acks } from "../pending-proposals";
import { isPlanted } from "../test-plants";
import { LeaderForwarder } from "../leader-forwarder";
import { countProduced } from "./produce-traffic";
import { produceStream } from "./produce-stream";
import { callUnary, commit, deadlineMsOf, invalid, onLeader, unary, unexpected } from "./rpc";

export function producerService(ctx: NodeContext): ProducerHandlers {
  return {
    Produce: unary(ctx, (call) => produce(ctx, call.request, call)),
    ProduceStream: (stream) => produceStream(ctx, stream, (req, call) => produce(ctx, req, call)),
    InitProducer: unary(ctx, (call) => initProducer(ctx, call.request, call)),
  };
}

async function initProducer(
  ctx: NodeContext,
  req: InitProducerRequest__Output,
  call: { metadata: grpc.Metadata; getDeadline(): grpc.Deadline },
): Promise<InitProducerResponse> {
  if (!Number.isSafeInteger(req.producerId) || req.producerId < 0) {
    throw invalid("ERROR_REASON_INVALID_FIELD", `producer_id must be 0 or an id InitProducer returned, got ${req.producerId}`);
  }
  return onLeader(
    ctx,
    call,
    "write",
    async () => {
      const result = await commit(ctx, { kind: CommandKind.InitProducer, nowMs: ctx.now(), producerId: req.producerId }, deadlineMsOf(call));
      if (result.kind !== "producerInitialized") throw unexpected(result);
      return { producerId: result.producerId, producerEpoch: result.epoch };
    },
    (leader, md, deadline) => {
      const client = ctx.forwarder.producer(leader);
      return callUnary<InitProducerResponse__Output>((cb) => client.InitProducer(req, md, { deadline }, cb));
    },
  );
}

async function produce(
  ctx: NodeContext,
  req: ProduceRequest__Output,
  call: { metadata: grpc.Metadata; getDeadline(): grpc.Deadline },
): Promise<ProduceResponse> {
  const response = await routeProduce(ctx, req, call);
  // Counted where the client called, not again on the leader a follower forwarded it to.
  if (!LeaderForwarder.isForwarded(call.metadata) && !response.error) countProduced(ctx, req);
  return response;
}

function routeProduce(
  ctx: NodeContext,
  req: ProduceRequest__Output,
  call: { metadata: grpc.Metadata; getDeadline(): grpc.Deadline },
): Promise<ProduceResponse> {
  // Refused before forwarding: a follower answers it the same as the leader would.
  acksOf(req.acks);
  return onLeader(
    ctx,
    call,
    "write",
    () => produceOnLeader(ctx, req, deadlineMsOf(call)),
    (leader, md, deadline) => {
      const client = ctx.forwarder.producer(leader);
      return callUnary<ProduceResponse__Output>((cb) => client.Produce(req, md, { deadline }, cb));
    },
  );
}

/** The request's acks; a number outside the enum (an unknown value) is refused, never read as QUORUM. */
function acksOf(acks: ProduceRequest__Output["acks"]): Acks {
  switch (acks) {
    case "ACKS_LEADER":
      return "leader";
    case "ACKS_NONE":
      return "none";
    case "ACKS_QUORUM":
      return "quorum";
    default:
      if (isPlanted("enum-unvalidated")) return "quorum";
      throw invalid("ERROR_REASON_INVALID_FIELD", `acks: ${String(acks)} is not a value of Acks`);
  }
}

async function produceOnLeader(ctx: NodeContext, req: ProduceRequest__Output, deadlineMs: number): Promise<ProduceResponse> {
  // The decoded request already has the planner's shape: no per-record copy on the hot path.
  const plan = planProduce(ctx.machine.state, req.batches, ctx.now(), ctx.sticky);
  const acks = acksOf(req.acks);
  const outcome = await ctx.replica.propose(encodeCommand(plan.command), acks, deadlineMs);
  let produced: AppendedBatch[] | null = null;
  if (acks === "quorum") {
    const result = outcome.result;
    if (result?.kind === "error") throw result.error;
    if (result?.kind !== "produced") throw unexpected(result);
    produced = result.batches;
  }
  return { correlationId: req.correlationId, results: produceOutcome(plan, produced) };
}
