// Consumer: Fetch (Kafka-style long poll) and Subscribe (server streaming). Any node serves reads from its
// own applied log; a follower asked for an offset past its high watermark first catches up to the
// leader's commit index (ReadIndex), so "produce on one node, read on another" works without retries.
import * as grpc from "@grpc/grpc-js";
import { BrokerError, FetchLocation } from "../../broker";
import { corruptData } from "../../broker/errors";
import type { ConsumerDefinition } from "../../generated/raftline/v1/Consumer";
import type { FetchRequest__Output } from "../../generated/raftline/v1/FetchRequest";
import type { SubscribeRequest__Output } from "../../generated/raftline/v1/SubscribeRequest";
import type { StoredBatch } from "../../broker/fetch-records";
import { readBatches } from "../../storage/broker-store";
import { ConsumedRecordsWire } from "../consumed-wire";
import type { NodeContext } from "../node-context";
import { toGrpcError } from "../rpc-errors";
import { isStorageDamage } from "../storage-damage";
import { asRpcError, deadlineMsOf, invalid, unary } from "./rpc";

export const defaultMaxBytes = 1024 * 1024;
export const maxWaitMsCeiling = 30000;
/** Records in one Fetch or Subscribe answer, whatever their size: bounds the per-record wire overhead. */
export const maxRecordsPerResponse = 65536;

/** The bytes one answer may hold: the caller's max_bytes (0 = the default), clamped to the node's ceiling. */
function responseBytes(ctx: NodeContext, requested: number): number {
  return Math.min(requested || defaultMaxBytes, ctx.config.maxFetchBytes);
}

/** Fetch and Subscribe answer with FetchResponse / SubscribeResponse bytes encoded from the stored batches. */
export interface ConsumerWireHandlers extends grpc.UntypedServiceImplementation {
  Fetch: grpc.handleUnaryCall<FetchRequest__Output, Buffer>;
  Subscribe: grpc.handleServerStreamingCall<SubscribeRequest__Output, Buffer>;
}

const preEncoded = (bytes: Buffer): Buffer => bytes;

/** The generated Consumer definition, with Fetch and Subscribe sending the handlers' bytes as they are. */
export function consumerServiceDefinition(generated: ConsumerDefinition): grpc.ServiceDefinition {
  return {
    ...generated,
    Fetch: { ...generated.Fetch, responseSerialize: preEncoded },
    Subscribe: { ...generated.Subscribe, responseSerialize: preEncoded },
  };
}

/** Handlers for consumerServiceDefinition (the generated definition would re-encode their bytes). */
export function consumerService(ctx: NodeContext): ConsumerWireHandlers {
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

/**
 * A follower may trail the leader by a few entries: a topic just created or a record just acknowledged
 * may not be applied here yet. Before answering "unknown topic", "beyond the high watermark" or "nothing
 * yet", a follower catches up once to the leader's commit index (ReadIndex) and looks again. Every look
 * runs when the applied state has landed in storage (Replica.readLanded), so what it locates is on disk.
 */
class FollowerCatchUp {
  private done: boolean;

  constructor(
    private readonly ctx: NodeContext,
    private readonly deadlineMs: number,
  ) {
    this.done = ctx.replica.isLeader;
  }

  async run<T>(read: () => T, satisfied: (value: T) => boolean = () => true): Promise<T> {
    try {
      const value = await this.ctx.replica.readLanded(read);
      if (this.done || satisfied(value)) return value;
    } catch (err) {
      const mayBeLag = err instanceof BrokerError && (err.code === "NOT_FOUND" || err.code === "OUT_OF_RANGE");
      if (this.done || !mayBeLag) throw err;
    }
    await this.ctx.replica.readBarrier(this.deadlineMs);
    this.done = true;
    return this.ctx.replica.readLanded(read);
  }
}

/** Where a read is in the log, and its batches read from storage when it wants them. */
interface LocatedRead {
  loc: FetchLocation;
  batches: Promise<StoredBatch[]> | undefined;
}

/** Stored bytes that fail their checks make the node damaged: it answers NODE_DAMAGED from then on. */
async function damaged(ctx: NodeContext, err: unknown): Promise<unknown> {
  if (!isStorageDamage(err)) return err;
  await ctx.damage.report(err instanceof Error ? err.message : String(err));
  try {
    ctx.damage.check(ctx.replica.leaderId);
  } catch (refusal) {
    return refusal;
  }
  return err;
}

/**
 * Opens the storage read in the same turn as the location: both see the landed state, since LevelDB's
 * read snapshot is taken when readBatches is called, before its first await.
 */
function startRead(ctx: NodeContext, loc: FetchLocation): Promise<StoredBatch[]> | undefined {
  if (loc.batches.length === 0) return undefined;
  return readBatches(ctx.db, loc.batches);
}

/** Encodes the located records; a located batch missing from storage is lost data, not a write in flight. */
async function readRecords(ctx: NodeContext, read: LocatedRead, maxBytes: number): Promise<ConsumedRecordsWire> {
  ctx.damage.check(ctx.replica.leaderId);
  if (read.batches === undefined) return ConsumedRecordsWire.none(read.loc.offset);
  let records: ConsumedRecordsWire;
  try {
    records = ConsumedRecordsWire.encode(await read.batches, read.loc.offset, maxBytes, maxRecordsPerResponse);
    if (records.recordCount === 0) throw corruptData(`offset ${read.loc.offset} is applied and written but missing from storage`);
  } catch (err) {
    throw await damaged(ctx, err);
  }
  return records;
}

async function fetch(ctx: NodeContext, req: FetchRequest__Output, deadlineMs: number): Promise<Buffer> {
  ctx.damage.check(ctx.replica.leaderId);
  nonNegative("offset", req.offset);
  nonNegative("max_bytes", req.maxBytes);
  nonNegative("min_bytes", req.minBytes);
  nonNegative("max_wait_ms", req.maxWaitMs);
  const maxBytes = responseBytes(ctx, req.maxBytes);
  const waitUntil = Math.min(ctx.now() + Math.min(req.maxWaitMs, maxWaitMsCeiling), deadlineMs);
  const catchUp = new FollowerCatchUp(ctx, deadlineMs);
  let endLongPoll: (() => void) | undefined;
  try {
    for (;;) {
      const read = await catchUp.run(
        (): LocatedRead & { timedOut: boolean } => {
          const loc = ctx.machine.state.locate(req.topic, req.partition, req.offset, maxBytes);
          const timedOut = ctx.now() >= waitUntil;
          const enough = loc.bytes >= req.minBytes || timedOut;
          return { loc, timedOut, batches: enough ? startRead(ctx, loc) : undefined };
        },
        (r) => r.loc.batches.length > 0,
      );
      const { loc, timedOut } = read;
      if (read.batches !== undefined) {
        const records = await readRecords(ctx, read, maxBytes);
        const response = records.fetchResponse({ highWatermark: loc.highWatermark, logStartOffset: loc.startOffset, nextOffset: records.nextOffset });
        ctx.traffic.consumed("fetch", records.recordCount, response.length);
        return response;
      }
      // min_bytes 0 asks for whatever there is now, even nothing.
      if (timedOut || req.minBytes === 0) {
        const none = ConsumedRecordsWire.none(req.offset);
        return none.fetchResponse({ highWatermark: loc.highWatermark, logStartOffset: loc.startOffset, nextOffset: req.offset });
      }
      endLongPoll ??= ctx.reads.beginLongPoll();
      await ctx.applied.next(waitUntil, ctx.now());
    }
  } finally {
    endLongPoll?.();
  }
}

async function startOffset(ctx: NodeContext, req: SubscribeRequest__Output, catchUp: FollowerCatchUp): Promise<number> {
  const info = await catchUp.run(() => ctx.machine.state.partitionInfo(req.topic, req.partition));
  if (req.start === "offset") {
    nonNegative("offset", req.offset ?? 0);
    return req.offset ?? 0;
  }
  if (req.position === "START_POSITION_EARLIEST") return info.startOffset;
  if (req.position === "START_POSITION_LATEST") return info.highWatermark;
  throw invalid("ERROR_REASON_INVALID_FIELD", "subscribe needs a start: an offset, START_POSITION_EARLIEST or START_POSITION_LATEST");
}

async function subscribe(ctx: NodeContext, call: grpc.ServerWritableStream<SubscribeRequest__Output, Buffer>): Promise<void> {
  const req = call.request;
  nonNegative("max_bytes", req.maxBytes);
  const maxBytes = responseBytes(ctx, req.maxBytes);
  ctx.damage.check(ctx.replica.leaderId);
  const budget = ctx.reads.openStream(maxBytes);
  try {
    const farFuture = (): number => ctx.now() + maxWaitMsCeiling;
    const catchUp = new FollowerCatchUp(ctx, farFuture());
    let offset = await startOffset(ctx, req, catchUp);
    // Headers now tell the client the stream is admitted and positioned, before any record arrives.
    call.sendMetadata(new grpc.Metadata());
    for (;;) {
      // A slow reader's responses wait in the transport, counted against the budget: at its limit the
      // stream stops reading the log until they drain. (A response exceeds maxBytes only by a record
      // larger than maxBytes, sent alone.)
      const reservation = await budget.reserve(call, maxBytes);
      if (!reservation) return;
      const read = await catchUp.run((): LocatedRead => {
        const loc = ctx.machine.state.locate(req.topic, req.partition, offset, maxBytes);
        return { loc, batches: startRead(ctx, loc) };
      });
      const { loc } = read;
      const records = await readRecords(ctx, read, maxBytes);
      if (records.recordCount === 0) {
        reservation.release();
        await ctx.applied.next(farFuture(), ctx.now(), call);
        if (call.cancelled) return;
        continue;
      }
      offset = records.nextOffset;
      const response = records.subscribeResponse({ highWatermark: loc.highWatermark, logStartOffset: loc.startOffset });
      reservation.resize(response.length);
      ctx.traffic.consumed("subscribe", records.recordCount, response.length);
      call.write(response, reservation.release);
    }
  } finally {
    budget.close();
  }
}
