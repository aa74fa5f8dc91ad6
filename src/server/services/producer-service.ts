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
import { toErrorStatus } from "../rpc-errors";
import { asRpcError, callUnary, commit, deadlineMsOf, onLeader, unary, unexpected } from "./rpc";
import { LeaderForwarder } from "../leader-forwarder";

/** Requests one ProduceStream may have in flight before the server stops reading it. */
export const maxInFlightPerStream = 1024;

export function producerService(ctx: NodeContext): ProducerHandlers {
  return {
    Produce: unary(ctx, (call) => produce(ctx, call.request, call)),
    ProduceStream: (stream) => produceStream(ctx, stream),
    InitProducer: unary(ctx, (call) => initProducer(ctx, call.request, call)),
  };
}

function initProducer(
  ctx: NodeContext,
  req: InitProducerRequest__Output,
  call: { metadata: grpc.Metadata; getDeadline(): grpc.Deadline },
): Promise<InitProducerResponse> {
  return onLeader(
    ctx,
    call,
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

function countProduced(ctx: NodeContext, req: ProduceRequest__Output): void {
  let records = 0;
  let bytes = 0;
  for (const batch of req.batches) {
    records += batch.records.length;
    for (const r of batch.records) {
      bytes += r.value.length + (r.key?.length ?? 0);
      for (const h of r.headers) bytes += Buffer.byteLength(h.key) + h.value.length;
    }
  }
  ctx.traffic.produced(records, bytes);
}

function routeProduce(
  ctx: NodeContext,
  req: ProduceRequest__Output,
  call: { metadata: grpc.Metadata; getDeadline(): grpc.Deadline },
): Promise<ProduceResponse> {
  return onLeader(
    ctx,
    call,
    () => produceOnLeader(ctx, req, deadlineMsOf(call)),
    (leader, md, deadline) => {
      const client = ctx.forwarder.producer(leader);
      return callUnary<ProduceResponse__Output>((cb) => client.Produce(req, md, { deadline }, cb));
    },
  );
}

function acksOf(acks: ProduceRequest__Output["acks"]): Acks {
  if (acks === "ACKS_LEADER") return "leader";
  if (acks === "ACKS_NONE") return "none";
  return "quorum";
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

function produceStream(ctx: NodeContext, stream: grpc.ServerDuplexStream<ProduceRequest__Output, ProduceResponse>): void {
  let inFlight = 0;
  let ended = false;
  let closed = false;
  const finishIfDone = (): void => {
    if (ended && inFlight === 0 && !closed) {
      closed = true;
      stream.end();
    }
  };
  stream.on("data", (req: ProduceRequest__Output) => {
    inFlight++;
    if (inFlight >= maxInFlightPerStream) stream.pause();
    // Stream requests carry no per-request deadline: bound each by the stream's, or the default.
    const call = { metadata: stream.metadata, getDeadline: () => LeaderForwarder.deadlineOf(stream) };
    produce(ctx, req, call)
      .then(
        (res) => res,
        (err: unknown): ProduceResponse => ({
          correlationId: req.correlationId,
          results: [],
          error: toErrorStatus(asRpcError(err), ctx.clientAddressOf),
        }),
      )
      .then((res) => {
        inFlight--;
        if (!closed) stream.write(res);
        if (inFlight < maxInFlightPerStream) stream.resume();
        finishIfDone();
      });
  });
  stream.on("end", () => {
    ended = true;
    finishIfDone();
  });
  stream.on("error", () => {
    closed = true;
  });
  stream.on("cancelled", () => {
    closed = true;
  });
}
