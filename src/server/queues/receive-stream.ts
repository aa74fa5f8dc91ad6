// One consumer's Receive stream: `open` first, then credit and acks in any order. Credit feeds the
// dispatcher; each `acks` request is answered on its own as soon as it is through the log (acks of one
// stream may be answered out of order; each result names its record). Only the leader serves Receive.
import type * as grpc from "@grpc/grpc-js";
import { invalidField, maxReceiveCredit, validateConsumerId } from "../../broker";
import type { ReceiveRequest__Output } from "../../generated/raftline/v1/ReceiveRequest";
import type { ReceiveResponse } from "../../generated/raftline/v1/ReceiveResponse";
import type { NodeContext } from "../node-context";
import { ReplicaError } from "../replica-errors";
import { toGrpcError } from "../rpc-errors";
import { asRpcError } from "../services/rpc";
import { encodeReceiveDeliveries } from "./delivery-wire";
import { answerAcks } from "./share-acks";
import { configOut } from "./share-config";
import type { Receiver, ShareDispatcher } from "./share-dispatcher";

/** Deliveries go out as bytes encoded by hand (delivery-wire.ts); everything else as messages. */
export type ReceiveCall = grpc.ServerDuplexStream<ReceiveRequest__Output, ReceiveResponse | Buffer>;

/** How long an open waits for the leader to have applied everything committed before it. */
const readBarrierTimeoutMs = 5000;

export function serveReceive(ctx: NodeContext, dispatcher: ShareDispatcher, call: ReceiveCall): void {
  let receiver: Receiver | undefined;
  let opening: Promise<void> | undefined;
  let done = false;
  const answering = new Set<Promise<void>>();

  const finish = (err?: unknown): void => {
    if (done) return;
    done = true;
    if (receiver) dispatcher.detach(receiver);
    if (err === undefined) call.end();
    else call.emit("error", toGrpcError(asRpcError(err), ctx.clientAddressOf));
  };

  const open = async (groupId: string, requestedId: string): Promise<void> => {
    if (!ctx.replica.isLeader) {
      throw new ReplicaError("NOT_LEADER", `node ${ctx.config.id} is not the leader; Receive at the leader`, ctx.replica.leaderId, true);
    }
    validateConsumerId(requestedId, false);
    await ctx.replica.readBarrier(ctx.now() + readBarrierTimeoutMs);
    const state = ctx.machine.state;
    const group = state.shares.requireLive(groupId, state.topicView);
    const consumerId = requestedId || dispatcher.newConsumerId("consumer");
    if (done) return;
    receiver = {
      groupId,
      consumerId,
      credit: 0,
      deliver: (batch) => {
        if (!done && batch.items.length > 0) call.write(encodeReceiveDeliveries(batch));
      },
      fail: (err) => finish(err),
    };
    call.write({ opened: { consumerId, config: configOut(group.config) } });
    dispatcher.attach(receiver);
  };

  const handle = (req: ReceiveRequest__Output): void => {
    if (done) return;
    if (!receiver && opening) {
      // Credit and acks sent right behind the open wait for it.
      opening.then(() => handle(req)).catch(finish);
      return;
    }
    if (!receiver) {
      if (req.kind !== "open" || !req.open) throw invalidField("the first request of a Receive stream must carry `open`");
      opening = open(req.open.groupId, req.open.consumerId);
      opening.catch(finish);
      return;
    }
    const r = receiver;
    switch (req.kind) {
      case "open":
        throw invalidField("a Receive stream opens once");
      case "credit": {
        const n = req.credit?.records ?? 0;
        if (n < 1 || n > maxReceiveCredit || r.credit + n > maxReceiveCredit) {
          throw invalidField(`credit must be 1..${maxReceiveCredit} records with at most ${maxReceiveCredit} outstanding, got ${n} on ${r.credit}`);
        }
        r.credit += n;
        dispatcher.poke(r.groupId);
        return;
      }
      case "acks": {
        const answered = answerAcks(ctx, dispatcher, r.groupId, r.consumerId, req.acks?.acks ?? [], false).then(
          (results) => {
            if (!done) call.write({ ackResults: { results } });
          },
          (err: unknown) => finish(err),
        );
        answering.add(answered);
        void answered.finally(() => answering.delete(answered));
        return;
      }
      default:
        throw invalidField("a Receive request must carry open, credit or acks");
    }
  };

  call.on("data", (req: ReceiveRequest__Output) => {
    try {
      handle(req);
    } catch (err) {
      finish(err);
    }
  });
  // A half-close ends the stream once the acks sent before it are answered.
  call.on("end", () => {
    void Promise.all([opening, ...answering]).then(() => finish(), finish);
  });
  const gone = (): void => {
    done = true;
    if (receiver) dispatcher.detach(receiver);
  };
  call.on("cancelled", gone);
  call.on("error", gone);
}
