// Plumbing shared by the services: running a handler and mapping its failure to a status, and routing a
// call to the leader (locally, or one forwarded hop).
import * as grpc from "@grpc/grpc-js";
import { BrokerError, Command, CommandResult, encodeCommand, grpcStatusOf } from "../../broker";
import { LeaderForwarder } from "../leader-forwarder";
import type { NodeContext } from "../node-context";
import { ReplicaError } from "../replica-errors";
import { Reason, RpcError, toGrpcError, toRpcError } from "../rpc-errors";

/** How long a call waits for an election to produce a leader before answering UNAVAILABLE. */
export const maxLeaderWaitMs = 3000;

export function asRpcError(err: unknown): RpcError {
  if (err instanceof BrokerError) return new RpcError(grpcStatusOf[err.code], err.reason, err.message);
  return toRpcError(err);
}

export function unary<Req, Res>(
  ctx: NodeContext,
  handler: (call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    handler(call).then(
      (res) => callback(null, res),
      (err: unknown) => {
        const rpcErr = asRpcError(err);
        if (rpcErr.code === grpc.status.INTERNAL) ctx.logger.error({ err }, "internal error");
        callback(toGrpcError(rpcErr, ctx.clientAddressOf));
      },
    );
  };
}

export function deadlineMsOf(call: { getDeadline(): grpc.Deadline }): number {
  return LeaderForwarder.deadlineOf(call).getTime();
}

/** Resolves true once `predicate` holds (checked on every role change), or false at `untilMs`. */
export function waitForRole(ctx: NodeContext, predicate: () => boolean, untilMs: number): Promise<boolean> {
  if (predicate()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const check = (): void => {
      if (predicate()) finish(true);
    };
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      ctx.replica.off("role", check);
      resolve(ok);
    };
    const timer = setTimeout(() => finish(predicate()), Math.max(0, untilMs - ctx.now()));
    ctx.replica.on("role", check);
  });
}

/** Resolves with the leader's id once one is known, or fails UNAVAILABLE (bounded by maxLeaderWaitMs). */
export async function waitForLeader(ctx: NodeContext, deadlineMs: number): Promise<number> {
  const until = Math.min(deadlineMs, ctx.now() + maxLeaderWaitMs);
  if (!(await waitForRole(ctx, () => ctx.replica.leaderId !== 0, until))) {
    throw new ReplicaError("NOT_LEADER", "no leader was elected in time; retry", 0, true);
  }
  return ctx.replica.leaderId;
}

/**
 * Runs `local` on the leader; on a follower, forwards with `forward` (one hop). A call that was already
 * forwarded to us is never forwarded again: it fails UNAVAILABLE naming the leader we know.
 */
export async function onLeader<Res>(
  ctx: NodeContext,
  call: { metadata: grpc.Metadata; getDeadline(): grpc.Deadline },
  kind: CallKind,
  local: () => Promise<Res>,
  forward: (leaderId: number, md: grpc.Metadata, deadline: Date) => Promise<Res>,
): Promise<Res> {
  if (ctx.replica.isLeader) return local();
  const deadline = LeaderForwarder.deadlineOf(call);
  if (LeaderForwarder.isForwarded(call.metadata)) {
    throw new ReplicaError("NOT_LEADER", notLeaderMessage(ctx), ctx.replica.leaderId, true);
  }
  const leader = await waitForLeader(ctx, deadline.getTime());
  if (leader === ctx.config.id) return local();
  try {
    return await forward(leader, ctx.forwarder.metadata(call.metadata), deadline);
  } catch (err) {
    throw forwardFailure(err, kind, leader);
  }
}

/** A write may change replicated state, so a broken forward leaves its outcome unknown; a query does not. */
export type CallKind = "write" | "query";

/**
 * onLeaderFresh for writes whose every effect is decided in the log (share-group Pop and Ack): the read
 * barrier is skipped once the leader applied an entry of its own term, since then its state holds
 * everything committed before its term, and what it proposed itself is answered only once applied. A
 * leader that was deposed meanwhile cannot commit the write, so the caller learns nothing false.
 */
export function onLeaderCurrent<Res>(
  ctx: NodeContext,
  call: { metadata: grpc.Metadata; getDeadline(): grpc.Deadline },
  local: () => Promise<Res>,
  forward: (leaderId: number, md: grpc.Metadata, deadline: Date) => Promise<Res>,
): Promise<Res> {
  if (ctx.replica.appliedOwnTerm) return local();
  return onLeaderFresh(ctx, call, "write", local, forward);
}

/**
 * onLeader for state the leader keeps in memory (groups, share groups): `local` runs after a read barrier,
 * so it sees everything committed before the call; queries answer from state that has landed in storage,
 * writes validate against the newest applied.
 */
export function onLeaderFresh<Res>(
  ctx: NodeContext,
  call: { metadata: grpc.Metadata; getDeadline(): grpc.Deadline },
  kind: CallKind,
  local: () => Promise<Res> | Res,
  forward: (leaderId: number, md: grpc.Metadata, deadline: Date) => Promise<Res>,
): Promise<Res> {
  return onLeader(
    ctx,
    call,
    kind,
    async () => {
      await ctx.replica.readBarrier(deadlineMsOf(call));
      return kind === "query" ? await ctx.replica.readLanded(local) : local();
    },
    forward,
  );
}

/**
 * Maps a failed forward to the status the caller must see. The leader's own answers carry a reason and
 * are relayed as they are. A failure of the hop itself carries none: if the call was never sent (no
 * connection), nothing happened; once sent, a write's outcome is unknown.
 */
export function forwardFailure(err: unknown, kind: CallKind, leader: number): RpcError {
  const e = toRpcError(err);
  if (e.reason !== "ERROR_REASON_UNSPECIFIED" || e.code === grpc.status.INTERNAL) return e;
  const hop = `forward to leader ${leader} failed: ${e.message}`;
  switch (e.code) {
    case grpc.status.UNAVAILABLE:
      if (kind === "query" || e.message.includes("No connection established")) {
        return new RpcError(grpc.status.UNAVAILABLE, "ERROR_REASON_NOT_LEADER", hop, leader);
      }
      return new RpcError(grpc.status.UNAVAILABLE, "ERROR_REASON_OUTCOME_UNKNOWN", hop, leader);
    case grpc.status.DEADLINE_EXCEEDED:
    case grpc.status.CANCELLED:
      return new RpcError(e.code, kind === "write" ? "ERROR_REASON_OUTCOME_UNKNOWN" : "ERROR_REASON_NO_QUORUM", hop, leader);
    case grpc.status.RESOURCE_EXHAUSTED:
      return new RpcError(e.code, "ERROR_REASON_REQUEST_TOO_LARGE", hop);
    default:
      return new RpcError(grpc.status.INTERNAL, "ERROR_REASON_UNSPECIFIED", hop);
  }
}

function notLeaderMessage(ctx: NodeContext): string {
  const leader = ctx.replica.leaderId;
  return leader ? `node ${ctx.config.id} is not the leader; node ${leader} is` : `node ${ctx.config.id} is not the leader and knows no leader`;
}

/** Promisifies one call of a generated client's unary method: `invoke` passes it the callback. */
export function callUnary<Res>(invoke: (cb: grpc.requestCallback<Res>) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => {
    invoke((err, res) => {
      if (err) reject(err);
      else if (res === undefined) reject(new RpcError(grpc.status.INTERNAL, "ERROR_REASON_UNSPECIFIED", "empty answer from the leader"));
      else resolve(res);
    });
  });
}

export function invalid(reason: Reason, message: string): RpcError {
  return new RpcError(grpc.status.INVALID_ARGUMENT, reason, message);
}

/** Commits a command through the log (acks=quorum) and returns its result; a refused command throws. */
export async function commit(ctx: NodeContext, command: Command, deadlineMs: number): Promise<Exclude<CommandResult, { kind: "error" }>> {
  const { result } = await ctx.replica.propose(encodeCommand(command), "quorum", deadlineMs);
  if (!result) throw unexpected(undefined);
  if (result.kind === "error") throw result.error;
  return result;
}

export function unexpected(result: CommandResult | undefined): RpcError {
  return new RpcError(grpc.status.INTERNAL, "ERROR_REASON_UNSPECIFIED", `unexpected apply result ${result?.kind ?? "none"}`);
}
