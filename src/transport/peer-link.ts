// The outbound half of one peer link: a bounded queue and one long-lived client stream. Messages
// queued during one event-loop turn leave together, in batches of at most maxBatchBytes. A dead or
// slow peer fills only its own queue; then new messages to it are dropped and raft is told the peer
// is unreachable (it retransmits once the peer answers again).
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { Message, NodeId } from "../raft/types";
import { Backoff } from "./backoff";
import type { PeerDirectory } from "./peer-directory";
import { type PeerClaim, type Refusal, claimMetadata, refusalOf } from "./peer-gate";
import { peerMethods } from "./peer-proto";
import { type TransportBounds, peerChannelOptions } from "./transport-bounds";
import type { TransportStats } from "./transport-stats";
import { messageToWire } from "./wire-convert";
import type { WireMessage, WireRaftBatch } from "./wire-types";

/** Upper bounds on protobuf framing (every varint at its widest), so an estimate is never below the encoding. */
const messageOverheadBytes = 160;
const entryOverheadBytes = 40;
const nodeIdBytesMax = 11;
/** Consumed slots at the queue's head that trigger compaction of the backing array. */
const queueCompactionSlots = 1024;

export function estimateMessageBytes(m: Message): number {
  let bytes = messageOverheadBytes + (m.context?.length ?? 0) * 3;
  for (const e of m.entries) bytes += entryOverheadBytes + e.data.byteLength;
  if (m.snapshot !== undefined) bytes += nodeIdBytesMax * (m.snapshot.conf.voters.length + m.snapshot.conf.learners.length);
  return bytes;
}

interface Queued {
  wire: WireMessage;
  bytes: number;
}

export interface PeerLinkDeps {
  bounds: TransportBounds;
  logger: Logger;
  stats: TransportStats;
  /** Called on a later turn, never from inside enqueue. */
  onUnreachable(id: NodeId): void;
  /** Sent when the stream opens, so the peer can admit this node. */
  claim?: () => PeerClaim;
  /** The peer refused this node (another cluster, or a stale incarnation). */
  onRefused?(id: NodeId, refusal: Refusal): void;
  /** An established stream broke off at the connection (UNAVAILABLE): the peer's process is most likely gone. */
  onConnectionLost?(id: NodeId): void;
  /** Sent along when it has grown since this stream last carried it. */
  directory?: PeerDirectory;
}

export class PeerLink {
  private readonly client: grpc.Client;
  private readonly backoff: Backoff;
  private queue: Queued[] = [];
  private queueHead = 0;
  private queuedBytes = 0;
  private call: grpc.ClientWritableStream<WireRaftBatch> | undefined;
  private connected = false;
  private waitingForDrain = false;
  private flushScheduled = false;
  private unreachable = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The directory version this stream last carried; -1 = not yet on this stream. */
  private sentDirectory = -1;

  constructor(
    readonly id: NodeId,
    readonly address: string,
    private readonly deps: PeerLinkDeps,
  ) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), peerChannelOptions(deps.bounds));
    this.backoff = new Backoff(deps.bounds.reconnectBaseMs, deps.bounds.reconnectMaxMs);
  }

  /** Never blocks, never throws: a message that does not fit is dropped and reported. */
  enqueue(message: Message): void {
    if (this.closed) return;
    const bytes = estimateMessageBytes(message);
    const { maxQueuedMessages, maxQueuedBytes, maxMessageBytes } = this.deps.bounds;
    if (bytes > maxMessageBytes) {
      this.deps.logger.error({ peer: this.id, type: message.type, bytes }, "raft message larger than maxMessageBytes dropped");
      this.deps.stats.outboundDropped++;
      this.markUnreachable();
      return;
    }
    if (this.queue.length - this.queueHead >= maxQueuedMessages || this.queuedBytes + bytes > maxQueuedBytes) {
      this.deps.stats.outboundDropped++;
      this.markUnreachable();
      return;
    }
    let wire: WireMessage;
    try {
      wire = messageToWire(message);
    } catch (err) {
      this.deps.logger.error({ peer: this.id, err }, "unencodable raft message dropped");
      this.deps.stats.outboundDropped++;
      return;
    }
    this.queue.push({ wire, bytes });
    this.queuedBytes += bytes;
    this.scheduleFlush();
  }

  /** Drops everything queued (the node was isolated, or the stream failed). */
  clear(): void {
    this.deps.stats.outboundDropped += this.queue.length - this.queueHead;
    this.queue = [];
    this.queueHead = 0;
    this.queuedBytes = 0;
  }

  close(): void {
    this.closed = true;
    this.clear();
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const call = this.call;
    this.call = undefined;
    call?.cancel();
    this.client.close();
  }

  private markUnreachable(): void {
    this.unreachable = true;
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    if (this.unreachable) {
      this.unreachable = false;
      this.deps.onUnreachable(this.id);
    }
    if (this.queueHead === this.queue.length) return;
    if (this.call === undefined && this.reconnectTimer === undefined) this.open();
    if (this.call === undefined || this.waitingForDrain) return;
    this.writeBatches(this.call);
  }

  private writeBatches(call: grpc.ClientWritableStream<WireRaftBatch>): void {
    const { maxBatchBytes } = this.deps.bounds;
    while (this.queueHead < this.queue.length) {
      const messages: WireMessage[] = [];
      let bytes = 0;
      while (this.queueHead < this.queue.length) {
        const next = this.queue[this.queueHead];
        if (messages.length > 0 && bytes + next.bytes > maxBatchBytes) break;
        this.queueHead++;
        this.queuedBytes -= next.bytes;
        bytes += next.bytes;
        messages.push(next.wire);
      }
      this.deps.stats.messagesSent += messages.length;
      const directory = this.deps.directory;
      const batch: WireRaftBatch = { messages };
      if (directory !== undefined && directory.version !== this.sentDirectory) {
        batch.members = directory.entries();
        this.sentDirectory = directory.version;
      }
      if (!call.write(batch)) {
        this.waitingForDrain = true;
        break;
      }
    }
    this.compactQueue();
  }

  private compactQueue(): void {
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.queueHead >= queueCompactionSlots) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  private open(): void {
    const method = peerMethods().raft;
    const call = this.client.makeClientStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      this.deps.claim ? claimMetadata(this.deps.claim()) : new grpc.Metadata(),
      {},
      (err) => this.onStreamEnd(call, err),
    );
    this.call = call;
    this.sentDirectory = -1;
    this.connected = false;
    this.waitingForDrain = false;
    // The receiver sends headers as soon as it accepts the stream: the link is up end to end.
    call.on("metadata", () => {
      if (call !== this.call) return;
      this.connected = true;
      this.backoff.reset();
      this.deps.logger.debug({ peer: this.id, address: this.address }, "peer link up");
    });
    call.on("drain", () => {
      if (call !== this.call) return;
      this.waitingForDrain = false;
      this.scheduleFlush();
    });
    // Failures arrive through the callback; a stream 'error' without a listener would throw.
    call.on("error", (err: Error) => this.deps.logger.debug({ peer: this.id, err }, "peer stream error"));
  }

  /** The stream ended (peer gone, restarted or shutting down): what was queued is lost; retry later. */
  private onStreamEnd(call: grpc.ClientWritableStream<WireRaftBatch>, err: grpc.ServiceError | null): void {
    if (call !== this.call || this.closed) return;
    const wasConnected = this.connected;
    this.call = undefined;
    this.connected = false;
    this.waitingForDrain = false;
    this.clear();
    const refusal = refusalOf(err);
    if (refusal !== undefined) this.deps.onRefused?.(this.id, refusal);
    const delayMs = this.backoff.nextDelayMs();
    const detail = { peer: this.id, address: this.address, code: err?.code, reason: err?.details, retryInMs: delayMs };
    if (wasConnected) this.deps.logger.warn(detail, "peer link lost");
    // A peer that shuts down ends the stream with OK; a reset connection says UNAVAILABLE.
    if (wasConnected && err?.code === grpc.status.UNAVAILABLE) this.deps.onConnectionLost?.(this.id);
    else this.deps.logger.debug(detail, "peer link failed to connect");
    this.markUnreachable();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.scheduleFlush();
    }, delayMs);
    this.reconnectTimer.unref();
  }
}
