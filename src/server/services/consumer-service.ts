// Consumer: Fetch (Kafka-style long poll) and Subscribe (server streaming). Any node serves reads from its
// own applied log; a follower asked for an offset past its high watermark first catches up to the
// leader's commit index (ReadIndex), so "produce on one node, read on another" works without retries.
import * as grpc from "@grpc/grpc-js";
import { BrokerError, DecodedRecord, FetchLocation, recordsFrom } from "../../broker";
import type { ConsumerHandlers } from "../../generated/raftline/v1/Consumer";
import type { FetchRequest__Output } from "../../generated/raftline/v1/FetchRequest";
import type { FetchResponse } from "../../generated/raftline/v1/FetchResponse";
import type { SubscribeRequest__Output } from "../../generated/raftline/v1/SubscribeRequest";
import type { SubscribeResponse } from "../../generated/raftline/v1/SubscribeResponse";
import { readBatches } from "../../storage/broker-store";
import type { NodeContext } from "../node-context";
import { toGrpcError } from "../rpc-errors";
import { asRpcError, deadlineMsOf, invalid, unary } from "./rpc";

export const defaultMaxBytes = 1024 * 1024;
export const maxWaitMsCeiling = 30000;

export function consumerService(ctx: NodeContext): ConsumerHandlers {
  return {
    Fetch: unary(ctx, (call) => fetch(ctx, call.request, deadlineMsOf(call))),
    Subscribe: (call) => {
      subscribe(ctx, call).catch((err: unknown) => {
        if (!call.cancelled) call.emit("error", toGrpcError(asRpcError(err), ctx.clientAddressOf));
      });
    },
  };
}

function nonNegative(name: string, value: number): void {
  if (value < 0) throw invalid("ERROR_REASON_INVALID_FIELD", `${name} must not be negative, got ${value}`);
}

/** Locates `offset`; on a follower behind the leader, waits once for a read barrier and retries. */
async function locate(ctx: NodeContext, topic: string, partition: number, offset: number, maxBytes: number, deadlineMs: number): Promise<FetchLocation> {
  try {
    return ctx.machine.state.locate(topic, partition, offset, maxBytes);
  } catch (err) {
    const beyond = err instanceof BrokerError && err.code === "OUT_OF_RANGE" && offset > ctx.machine.state.partitionInfo(topic, partition).highWatermark;
    if (!beyond || ctx.replica.isLeader) throw err;
    await ctx.replica.readBarrier(deadlineMs);
    return ctx.machine.state.locate(topic, partition, offset, maxBytes);
  }
}

async function readRecords(ctx: NodeContext, loc: FetchLocation, maxBytes: number): Promise<DecodedRecord[]> {
  if (loc.batchCount === 0) return [];
  const batches = await readBatches(ctx.db, loc.topicId, loc.partition, loc.fromBaseOffset, maxBytes);
  return recordsFrom(batches, loc.offset, maxBytes);
}

async function fetch(ctx: NodeContext, req: FetchRequest__Output, deadlineMs: number): Promise<FetchResponse> {
  nonNegative("offset", req.offset);
  nonNegative("max_bytes", req.maxBytes);
  nonNegative("min_bytes", req.minBytes);
  nonNegative("max_wait_ms", req.maxWaitMs);
  const maxBytes = req.maxBytes || defaultMaxBytes;
  const waitUntil = Math.min(ctx.now() + Math.min(req.maxWaitMs, maxWaitMsCeiling), deadlineMs);
  for (;;) {
    const loc = await locate(ctx, req.topic, req.partition, req.offset, maxBytes, deadlineMs);
    const timedOut = ctx.now() >= waitUntil;
    if (loc.batchCount > 0 && (loc.bytes >= req.minBytes || timedOut)) {
      const records = await readRecords(ctx, loc, maxBytes);
      // Empty only in the moment between apply and its write landing: wait for the write then.
      if (records.length > 0 || timedOut) {
        const next = records.length > 0 ? records[records.length - 1].offset + 1 : req.offset;
        return { records, highWatermark: loc.highWatermark, logStartOffset: loc.startOffset, nextOffset: next };
      }
    }
    if (timedOut) return { records: [], highWatermark: loc.highWatermark, logStartOffset: loc.startOffset, nextOffset: req.offset };
    await ctx.applied.next(waitUntil, ctx.now());
  }
}

function startOffset(ctx: NodeContext, req: SubscribeRequest__Output): number {
  const info = ctx.machine.state.partitionInfo(req.topic, req.partition);
  if (req.start === "offset") {
    nonNegative("offset", req.offset ?? 0);
    return req.offset ?? 0;
  }
  if (req.position === "START_POSITION_EARLIEST") return info.startOffset;
  if (req.position === "START_POSITION_LATEST") return info.highWatermark;
  throw invalid("ERROR_REASON_INVALID_FIELD", "subscribe needs a start: an offset, START_POSITION_EARLIEST or START_POSITION_LATEST");
}

async function subscribe(ctx: NodeContext, call: grpc.ServerWritableStream<SubscribeRequest__Output, SubscribeResponse>): Promise<void> {
  const req = call.request;
  nonNegative("max_bytes", req.maxBytes);
  const maxBytes = req.maxBytes || defaultMaxBytes;
  let offset = startOffset(ctx, req);
  const farFuture = (): number => ctx.now() + maxWaitMsCeiling;
  while (!call.cancelled) {
    const loc = await locate(ctx, req.topic, req.partition, offset, maxBytes, farFuture());
    const records = await readRecords(ctx, loc, maxBytes);
    if (records.length === 0) {
      await ctx.applied.next(farFuture(), ctx.now(), call);
      continue;
    }
    offset = records[records.length - 1].offset + 1;
    const flushed = call.write({ records, highWatermark: loc.highWatermark, logStartOffset: loc.startOffset });
    // Flow control: hold at most one response beyond what the transport buffers for a slow reader.
    if (!flushed && !call.cancelled) await drained(call);
  }
}

function drained(call: grpc.ServerWritableStream<SubscribeRequest__Output, SubscribeResponse>): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      call.off("drain", done);
      call.off("cancelled", done);
      resolve();
    };
    call.once("drain", done);
    call.once("cancelled", done);
  });
}
