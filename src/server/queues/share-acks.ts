// Answers a consumer's acks, for the Ack rpc and the Receive stream alike: ACCEPT, RELEASE and RENEW go
// through the log as one ShareAck command, REJECTs as one ShareDeadLetter command (the record read back
// and appended to the dead-letter topic in the same step that retires it).
import {
  BrokerError,
  ShareAckType,
  ShareCommandKind,
  invalidField,
  maxBackoffMs,
  maxRecordsPerShareCall,
  maxRejectReasonBytes,
  validateConsumerId,
  type ShareAck,
} from "../../broker";
import type { AckResult } from "../../generated/raftline/v1/AckResult";
import type { RecordAck__Output } from "../../generated/raftline/v1/RecordAck";
import type { NodeContext } from "../node-context";
import { toErrorStatus } from "../rpc-errors";
import { asRpcError } from "../services/rpc";
import { deadLetterCommand, type DeadLetterPlan } from "./dead-letters";
import type { ShareDispatcher } from "./share-dispatcher";

const ackTypes: Record<string, ShareAckType | "reject" | undefined> = {
  ACK_TYPE_ACCEPT: ShareAckType.Accept,
  ACK_TYPE_RELEASE: ShareAckType.Release,
  ACK_TYPE_RENEW: ShareAckType.Renew,
  ACK_TYPE_REJECT: "reject",
};

/** Refuses malformed acks as a whole (INVALID_ARGUMENT), before anything is judged against the state. */
function validateShape(acks: readonly RecordAck__Output[]): void {
  if (acks.length === 0 || acks.length > maxRecordsPerShareCall) throw invalidField(`acks must hold 1..${maxRecordsPerShareCall} entries, got ${acks.length}`);
  const seen = new Set<string>();
  for (const a of acks) {
    if (ackTypes[String(a.type)] === undefined) throw invalidField(`ack type ${String(a.type)} is not one of ACCEPT, RELEASE, REJECT, RENEW`);
    if (a.delayMs < 0 || a.delayMs > maxBackoffMs) throw invalidField(`delay_ms must be in 0..${maxBackoffMs}, got ${a.delayMs}`);
    if (Buffer.byteLength(a.reason, "utf8") > maxRejectReasonBytes) throw invalidField(`reason is over ${maxRejectReasonBytes} bytes`);
    if (a.offset < 0 || a.partition < 0) throw invalidField(`no record ${a.partition}/${a.offset}`);
    const key = `${a.partition}/${a.offset}`;
    if (seen.has(key)) throw invalidField(`two acks for record ${key}`);
    seen.add(key);
  }
}

/**
 * Answers the acks. `allOrNothing` (the Ack rpc): any ack the state refuses now refuses the request.
 * Otherwise (the Receive stream) each refused ack gets its own error and the rest go ahead.
 */
export async function answerAcks(
  ctx: NodeContext,
  dispatcher: ShareDispatcher,
  groupId: string,
  consumerId: string,
  acks: readonly RecordAck__Output[],
  allOrNothing: boolean,
): Promise<AckResult[]> {
  const state = ctx.machine.state;
  const group = state.shares.requireLive(groupId, state.topicView);
  validateConsumerId(consumerId, true);
  validateShape(acks);
  const nowMs = ctx.now();
  if (allOrNothing) state.shares.checkAcks(groupId, consumerId, acks, nowMs, state.topicView);
  const results: AckResult[] = acks.map((a) => ({ partition: a.partition, offset: a.offset }));
  const fail = (i: number, err: unknown): void => {
    results[i].error = toErrorStatus(asRpcError(err), ctx.clientAddressOf);
  };
  const plain: { index: number; ack: ShareAck }[] = [];
  const rejects: { index: number; plan: DeadLetterPlan }[] = [];
  acks.forEach((a, index) => {
    try {
      state.shares.checkAcks(groupId, consumerId, [a], nowMs, state.topicView);
    } catch (err) {
      if (!(err instanceof BrokerError)) throw err;
      return fail(index, err);
    }
    const type = ackTypes[String(a.type)];
    if (type === "reject") {
      const deliveryCount = state.shares.recordState(groupId, a.partition, a.offset)?.deliveryCount ?? 0;
      rejects.push({ index, plan: { partition: a.partition, offset: a.offset, deliveryCount, rejectedBy: consumerId, reason: a.reason } });
    } else if (type !== undefined) {
      plain.push({ index, ack: { partition: a.partition, offset: a.offset, type, delayMs: a.delayMs } });
    }
  });
  const commitPlain = async (): Promise<void> => {
    if (plain.length === 0) return;
    const result = await dispatcher.propose({ kind: ShareCommandKind.ShareAck, nowMs, groupId, consumerId, acks: plain.map((p) => p.ack) });
    if (result.kind !== "shareAcked") return;
    result.outcomes.forEach((err, i) => err && fail(plain[i].index, err));
  };
  const commitRejects = async (): Promise<void> => {
    if (rejects.length === 0) return;
    try {
      const command = await deadLetterCommand(ctx, group, rejects.map((r) => r.plan), nowMs);
      if (command) await dispatcher.propose(command);
    } catch (err) {
      // One command for every reject: all of them failed, and the records are still held.
      if (!(err instanceof BrokerError)) throw err;
      for (const r of rejects) fail(r.index, err);
    }
  };
  await Promise.all([commitPlain(), commitRejects()]);
  dispatcher.poke(groupId);
  return results;
}
