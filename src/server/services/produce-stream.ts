// ProduceStream keeps its order whichever node it reaches. producer.proto promises that requests to one
// partition are appended in the order they were sent on the stream; on the leader that holds because each
// request is proposed as it arrives. A follower relays the stream over one stream of its own to the
// leader, so the leader sees the requests in the same order. A request is sent down a route (proposed
// here, or relayed to one leader) only once every request sent down the previous route has been answered:
// those either are in the log ahead of it or will never be, so a leader change cannot reorder a stream.
import * as grpc from "@grpc/grpc-js";
import type { ProduceRequest__Output } from "../../generated/raftline/v1/ProduceRequest";
import type { ProduceResponse, ProduceResponse__Output } from "../../generated/raftline/v1/ProduceResponse";
import { countProduced } from "./produce-traffic";
import { LeaderForwarder } from "../leader-forwarder";
import type { NodeContext } from "../node-context";
import { RpcError, toErrorStatus } from "../rpc-errors";
import { asRpcError, forwardFailure, maxLeaderWaitMs, waitForRole } from "./rpc";

/** Requests one ProduceStream may have in flight before the server stops reading it. */
export const maxInFlightPerStream = 1024;

type CallLike = { metadata: grpc.Metadata; getDeadline(): grpc.Deadline };
export type ProduceOne = (req: ProduceRequest__Output, call: CallLike) => Promise<ProduceResponse>;

/** One stream to the leader carrying a client stream's requests, in order, under ids of its own. */
class LeaderRelay {
  private readonly waiting = new Map<number, (res: ProduceResponse__Output | RpcError) => void>();
  private nextId = 1;
  private failure: RpcError | undefined;
  private readonly call: grpc.ClientDuplexStream<ProduceRequest__Output, ProduceResponse__Output>;

  constructor(
    ctx: NodeContext,
    readonly leader: number,
    deadline: Date | undefined,
    callerMetadata: grpc.Metadata,
  ) {
    this.call = ctx.forwarder.producer(leader).ProduceStream(ctx.forwarder.metadata(callerMetadata), deadline ? { deadline } : {});
    this.call.on("data", (res: ProduceResponse__Output) => {
      const settle = this.waiting.get(Number(res.correlationId));
      this.waiting.delete(Number(res.correlationId));
      settle?.(res);
    });
    this.call.on("error", (err: unknown) => this.fail(err));
    this.call.on("end", () => this.fail(new RpcError(grpc.status.UNAVAILABLE, "ERROR_REASON_UNSPECIFIED", "the leader closed the stream")));
  }

  get broken(): boolean {
    return this.failure !== undefined;
  }

  /** Relays `req`; the answer carries the client's correlation id again. */
  send(req: ProduceRequest__Output): Promise<ProduceResponse> {
    const id = this.nextId++;
    return new Promise<ProduceResponse__Output | RpcError>((resolve) => {
      if (this.failure) return resolve(this.failure);
      this.waiting.set(id, resolve);
      this.call.write({ ...req, correlationId: id });
    }).then((res) => {
      if (res instanceof RpcError) throw res;
      return { ...res, correlationId: req.correlationId };
    });
  }

  close(): void {
    if (!this.failure) this.call.end();
  }

  cancel(): void {
    this.call.cancel();
  }

  /** Every request sent and not answered: unknown outcome once sent, unless it certainly never left. */
  private fail(err: unknown): void {
    this.failure ??= forwardFailure(err, "write", this.leader);
    for (const settle of this.waiting.values()) settle(this.failure);
    this.waiting.clear();
  }
}

type Route = { kind: "local" } | { kind: "relay"; relay: LeaderRelay };

export function produceStream(
  ctx: NodeContext,
  stream: grpc.ServerDuplexStream<ProduceRequest__Output, ProduceResponse>,
  produceOne: ProduceOne,
): void {
  const queue: ProduceRequest__Output[] = [];
  let received = 0;
  let onRoute = 0;
  let route: Route | undefined;
  let pumping = false;
  let ended = false;
  let closed = false;
  let drained: (() => void) | undefined;
  // A relayed stream is never relayed again: requests a follower sent here fail here if we do not lead.
  const relayed = LeaderForwarder.isForwarded(stream.metadata);
  const clientDeadline = (): Date | undefined => {
    const d = stream.getDeadline();
    const ms = d instanceof Date ? d.getTime() : Number(d);
    return Number.isFinite(ms) ? new Date(ms) : undefined;
  };
  // Stream requests carry no deadline of their own: bound each by the stream's, or the default.
  const call: CallLike = { metadata: stream.metadata, getDeadline: () => LeaderForwarder.deadlineOf(stream) };

  const finishIfDone = (): void => {
    if (ended && received === 0 && !closed) {
      closed = true;
      if (route?.kind === "relay") route.relay.close();
      stream.end();
    }
  };
  const answer = (res: ProduceResponse): void => {
    received--;
    if (!closed) stream.write(res);
    if (received < maxInFlightPerStream) stream.resume();
    finishIfDone();
  };
  const refusal = (req: ProduceRequest__Output, err: unknown): ProduceResponse => ({
    correlationId: req.correlationId,
    results: [],
    error: toErrorStatus(asRpcError(err), ctx.clientAddressOf),
  });
  const dispatch = (req: ProduceRequest__Output, via: Route): void => {
    onRoute++;
    const sent =
      via.kind === "local"
        ? produceOne(req, call)
        : via.relay.send(req).then((res) => {
            if (!res.error) countProduced(ctx, req);
            return res;
          });
    sent
      .then(
        (res) => res,
        (err: unknown) => refusal(req, err),
      )
      .then((res) => {
        onRoute--;
        if (onRoute === 0) drained?.();
        answer(res);
      });
  };

  /** Where the next request goes: "local", a leader to relay to, or undefined when no leader is known. */
  const nextTarget = async (): Promise<"local" | number | undefined> => {
    if (relayed || ctx.replica.isLeader) return "local";
    if (ctx.replica.leaderId === 0) {
      const until = Math.min(LeaderForwarder.deadlineOf(stream).getTime(), ctx.now() + maxLeaderWaitMs);
      await waitForRole(ctx, () => ctx.replica.leaderId !== 0, until);
    }
    const leader = ctx.replica.leaderId;
    if (leader === 0) return undefined;
    return leader === ctx.config.id ? "local" : leader;
  };
  const isCurrent = (target: "local" | number): boolean =>
    target === "local" ? route?.kind === "local" : route?.kind === "relay" && route.relay.leader === target && !route.relay.broken;

  const pump = async (): Promise<void> => {
    if (pumping) return;
    pumping = true;
    while (queue.length > 0 && !closed) {
      const target = await nextTarget();
      if (target === undefined) {
        // Certainly not appended: nothing was sent anywhere.
        const req = queue.shift() as ProduceRequest__Output;
        answer(refusal(req, new RpcError(grpc.status.UNAVAILABLE, "ERROR_REASON_NO_QUORUM", "no leader was elected in time; retry")));
        continue;
      }
      if (!isCurrent(target)) {
        if (onRoute > 0) {
          await new Promise<void>((resolve) => (drained = resolve));
          drained = undefined;
          continue;
        }
        if (route?.kind === "relay") route.relay.close();
        route = target === "local" ? { kind: "local" } : { kind: "relay", relay: new LeaderRelay(ctx, target, clientDeadline(), stream.metadata) };
      }
      dispatch(queue.shift() as ProduceRequest__Output, route as Route);
    }
    pumping = false;
  };

  stream.on("data", (req: ProduceRequest__Output) => {
    received++;
    if (received >= maxInFlightPerStream) stream.pause();
    queue.push(req);
    pump().catch((err: unknown) => ctx.logger.error({ err }, "produce stream relay failed"));
  });
  stream.on("end", () => {
    ended = true;
    finishIfDone();
  });
  const abandon = (): void => {
    closed = true;
    if (route?.kind === "relay") route.relay.cancel();
  };
  stream.on("error", abandon);
  stream.on("cancelled", abandon);
}
