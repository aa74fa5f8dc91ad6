// The inbound half of the peer port: the Peer service's handlers. Everything arriving here comes
// from another process and is checked before it reaches raft; a malformed message is dropped and
// logged, never thrown into the event loop.
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import { type Message, MessageType, type NodeId } from "../raft/types";
import type { PeerDirectory } from "./peer-directory";
import { type PeerGate, type Refusal, claimFromMetadata, refusalStatus } from "./peer-gate";
import type { TransportBounds } from "./transport-bounds";
import type { TransportStats } from "./transport-stats";
import { messageFromWire } from "./wire-convert";
import type {
  WireInstallSnapshotResult,
  WireRaftBatch,
  WireRaftStreamEnd,
  WireSetIsolated,
  WireSnapshotChunk,
} from "./wire-types";

export interface InboundDeps {
  selfId: NodeId;
  bounds: TransportBounds;
  logger: Logger;
  stats: TransportStats;
  enableFaults: boolean;
  isIsolated(): boolean;
  setIsolated(isolated: boolean): void;
  /** Returns false when the receiver is full: the stream then stops reading until resumeStreams(). */
  onMessages(messages: Message[]): boolean | void;
  onSnapshot(message: Message, chunks: AsyncIterable<Buffer>): Promise<void>;
  /** Admits peers by cluster and incarnation; without one, every peer is taken (tests of the transport alone). */
  gate?: PeerGate;
  /** Merges the address books peers send. */
  directory?: PeerDirectory;
}

export class PeerInbound {
  /** Ends each open inbound raft stream, for close(). */
  private readonly openStreams = new Set<() => void>();
  /** Inbound raft streams paused because the receiver was full. */
  private readonly paused = new Set<grpc.ServerReadableStream<WireRaftBatch, WireRaftStreamEnd>>();
  private activeInstalls = 0;
  private closed = false;

  constructor(private readonly deps: InboundDeps) {}

  implementation(): grpc.UntypedServiceImplementation {
    return {
      Raft: (call: grpc.ServerReadableStream<WireRaftBatch, WireRaftStreamEnd>, callback: grpc.sendUnaryData<WireRaftStreamEnd>) =>
        this.onRaftStream(call, callback),
      InstallSnapshot: (
        call: grpc.ServerReadableStream<WireSnapshotChunk, WireInstallSnapshotResult>,
        callback: grpc.sendUnaryData<WireInstallSnapshotResult>,
      ) => {
        void this.installSnapshot(call).then((result) => callback(null, result));
      },
      SetIsolated: (call: grpc.ServerUnaryCall<WireSetIsolated, WireSetIsolated>, callback: grpc.sendUnaryData<WireSetIsolated>) =>
        this.onSetIsolated(call, callback),
    };
  }

  /** The receiver has room again: paused streams read on. */
  resumeStreams(): void {
    for (const call of this.paused) call.resume();
    this.paused.clear();
  }

  /** Ends the open inbound streams so that peers notice at once; later ones are refused. */
  close(): void {
    this.closed = true;
    for (const end of [...this.openStreams]) end();
  }

  private onRaftStream(
    call: grpc.ServerReadableStream<WireRaftBatch, WireRaftStreamEnd>,
    callback: grpc.sendUnaryData<WireRaftStreamEnd>,
  ): void {
    if (this.closed) {
      callback({ code: grpc.status.UNAVAILABLE, details: "peer transport is closed" });
      return;
    }
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      this.openStreams.delete(end);
      this.paused.delete(call);
      callback(null, {});
    };
    this.openStreams.add(end);
    call.on("end", end);
    call.on("cancelled", end);
    call.on("error", (err: Error) => {
      this.deps.logger.debug({ err }, "inbound peer stream error");
      end();
    });
    // Nothing is read from the stream until the sender is admitted (and that decision is on disk).
    void this.admit(call.metadata).then((refused) => {
      if (ended) return;
      if (refused !== undefined) {
        ended = true;
        this.openStreams.delete(end);
        callback(refusalStatus(refused));
        return;
      }
      call.sendMetadata(new grpc.Metadata());
      call.on("data", (batch: WireRaftBatch) => {
        if (this.deliver(batch) || ended) return;
        call.pause();
        this.paused.add(call);
      });
    });
  }

  /** Undefined admits the peer. */
  private async admit(md: grpc.Metadata): Promise<Refusal | undefined> {
    const gate = this.deps.gate;
    if (gate === undefined) return undefined;
    const claim = claimFromMetadata(md);
    if (claim === undefined) return { kind: "cluster", message: "peer stream without a cluster id, node id and incarnation: refused" };
    try {
      const refusal = await gate.admit(claim);
      if (refusal !== undefined) this.deps.logger.warn({ peer: claim.nodeId, reason: refusal.message }, "refused a peer");
      return refusal;
    } catch (err) {
      this.deps.logger.error({ err, peer: claim.nodeId }, "peer admission failed");
      return { kind: "cluster", message: "peer admission failed on the receiver" };
    }
  }

  /** Returns false when the receiver asked to hold back. */
  private deliver(batch: WireRaftBatch): boolean {
    if (this.closed || this.deps.isIsolated()) {
      this.deps.stats.inboundDropped += batch.messages.length;
      return true;
    }
    if (batch.members !== undefined && batch.members.length > 0) this.deps.directory?.merge(batch.members);
    const messages: Message[] = [];
    let dropped = 0;
    for (const wire of batch.messages) {
      const m = messageFromWire(wire);
      // Snap only travels with its data, through InstallSnapshot.
      if (m === undefined || m.to !== this.deps.selfId || m.type === MessageType.Snap) dropped++;
      else messages.push(m);
    }
    if (dropped > 0) this.deps.logger.warn({ dropped, self: this.deps.selfId }, "dropped malformed or misaddressed raft messages");
    this.deps.stats.inboundDropped += dropped;
    if (messages.length === 0) return true;
    this.deps.stats.messagesReceived += messages.length;
    try {
      return this.deps.onMessages(messages) !== false;
    } catch (err) {
      this.deps.logger.error({ err }, "raft message handler threw");
      return true;
    }
  }

  private async installSnapshot(call: grpc.ServerReadableStream<WireSnapshotChunk, WireInstallSnapshotResult>): Promise<WireInstallSnapshotResult> {
    if (this.closed) return refused("peer transport is closed");
    if (this.deps.isIsolated()) return refused("node is isolated");
    if (this.activeInstalls >= this.deps.bounds.maxConcurrentSnapshotInstalls) return refused("busy installing another snapshot");
    const refusal = await this.admit(call.metadata);
    if (refusal !== undefined) return refused(refusal.message);
    this.activeInstalls++;
    try {
      const parts: AsyncIterator<WireSnapshotChunk> = call[Symbol.asyncIterator]();
      const first = await parts.next();
      const message = first.done === true || !first.value.message ? undefined : messageFromWire(first.value.message);
      if (message === undefined || message.type !== MessageType.Snap || message.snapshot === undefined || message.to !== this.deps.selfId) {
        return refused("the first chunk must carry a Snap message with its meta, addressed to this node");
      }
      this.deps.logger.info({ from: message.from, index: message.snapshot.index }, "receiving snapshot");
      await this.deps.onSnapshot(message, this.dataChunks(parts));
      return { installed: true, reason: "" };
    } catch (err) {
      this.deps.logger.warn({ err }, "snapshot not installed");
      return refused(err instanceof Error ? err.message : String(err));
    } finally {
      this.activeInstalls--;
    }
  }

  private async *dataChunks(parts: AsyncIterator<WireSnapshotChunk>): AsyncIterable<Buffer> {
    for (;;) {
      const next = await parts.next();
      if (next.done === true) return;
      if (this.closed || this.deps.isIsolated()) throw new Error("snapshot receive interrupted: node closed or isolated");
      const data = next.value.data;
      if (next.value.part !== "data" || data === undefined) throw new Error("snapshot chunk without data");
      yield Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    }
  }

  private onSetIsolated(call: grpc.ServerUnaryCall<WireSetIsolated, WireSetIsolated>, callback: grpc.sendUnaryData<WireSetIsolated>): void {
    if (!this.deps.enableFaults) {
      callback({ code: grpc.status.PERMISSION_DENIED, details: "fault injection is disabled on this node" });
      return;
    }
    this.deps.setIsolated(call.request.isolated);
    callback(null, { isolated: this.deps.isIsolated() });
  }
}

function refused(reason: string): WireInstallSnapshotResult {
  return { installed: false, reason };
}
