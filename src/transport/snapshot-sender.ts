// Streams one snapshot to a peer over its own connection: the Snap message first, then the state
// chunks, honouring the stream's flow control. Resolves to whether the peer installed it.
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { Message } from "../raft/types";
import { type PeerClaim, claimMetadata } from "./peer-gate";
import { peerMethods } from "./peer-proto";
import { type TransportBounds, peerChannelOptions } from "./transport-bounds";
import { messageToWire } from "./wire-convert";

export interface SnapshotSendContext {
  address: string;
  bounds: TransportBounds;
  logger: Logger;
  /** Aborted when the transport closes. */
  signal: AbortSignal;
  /** True while the node is isolated: the send stops. */
  isIsolated(): boolean;
  /** Sent in the stream's metadata so the receiver can admit this node. */
  claim?: PeerClaim;
  credentials: grpc.ChannelCredentials;
}

interface Outcome {
  installed: boolean;
  reason: string;
}

export async function streamSnapshot(ctx: SnapshotSendContext, message: Message, chunks: AsyncIterable<Uint8Array>): Promise<boolean> {
  const client = new grpc.Client(ctx.address, ctx.credentials, peerChannelOptions(ctx.bounds));
  const method = peerMethods().installSnapshot;
  let settled = false;
  let wake: (() => void) | undefined;
  let resolveOutcome: (outcome: Outcome) => void = () => undefined;
  const outcome = new Promise<Outcome>((resolve) => (resolveOutcome = resolve));
  const stream = client.makeClientStreamRequest(
    method.path,
    method.requestSerialize,
    method.responseDeserialize,
    ctx.claim ? claimMetadata(ctx.claim) : new grpc.Metadata(),
    { deadline: Date.now() + ctx.bounds.maxSnapshotSendMs },
    (err, result) => {
      settled = true;
      wake?.();
      if (err !== null || result === undefined) resolveOutcome({ installed: false, reason: err?.details ?? "no answer" });
      else resolveOutcome({ installed: result.installed, reason: result.reason });
    },
  );
  stream.on("error", (err: Error) => ctx.logger.debug({ peer: message.to, err }, "snapshot stream error"));
  stream.on("drain", () => wake?.());
  const cancel = (): void => stream.cancel();
  ctx.signal.addEventListener("abort", cancel, { once: true });
  let sentBytes = 0;
  try {
    stream.write({ message: messageToWire(message) });
    for await (const chunk of chunks) {
      if (settled || ctx.signal.aborted || ctx.isIsolated()) break;
      sentBytes += chunk.byteLength;
      if (!stream.write({ data: chunk })) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
    if (settled || ctx.signal.aborted || ctx.isIsolated()) stream.cancel();
    else stream.end();
  } catch (err) {
    ctx.logger.warn({ peer: message.to, err }, "snapshot source failed while sending");
    stream.cancel();
  }
  const { installed, reason } = await outcome;
  ctx.signal.removeEventListener("abort", cancel);
  client.close();
  const detail = { peer: message.to, index: message.snapshot?.index, sentBytes };
  if (installed) ctx.logger.info(detail, "snapshot sent");
  else ctx.logger.warn({ ...detail, reason }, "snapshot not installed by peer");
  return installed;
}
