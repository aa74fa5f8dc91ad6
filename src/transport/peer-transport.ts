// Raft traffic between the nodes of a cluster over gRPC (proto/internal/peer.proto): one outbound
// link per peer, the Peer service for inbound traffic, snapshots on their own connections, and a
// test-only isolation switch.
import type * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import { type Message, MessageType, type NodeId } from "../raft/types";
import { PeerInbound } from "./inbound";
import type { PeerDirectory } from "./peer-directory";
import type { PeerGate, Refusal } from "./peer-gate";
import { PeerLink } from "./peer-link";
import { peerMethods } from "./peer-proto";
import { streamSnapshot } from "./snapshot-sender";
import { type TransportBounds, resolveBounds } from "./transport-bounds";
import { type TransportStats, newTransportStats } from "./transport-stats";

export interface PeerTransportOptions {
  selfId: NodeId;
  /** Peer id -> "host:port" of its peer port. This node's own entry, if present, is ignored. */
  peers: ReadonlyMap<NodeId, string>;
  /** Raft messages addressed to this node, in arrival order per sender. Must not throw. */
  onMessages(messages: Message[]): void;
  /** A snapshot from the leader: `message` is its Snap message; resolve once installed, reject to refuse. */
  onSnapshot(message: Message, chunks: AsyncIterable<Buffer>): Promise<void>;
  /** Raft should treat `id` as unreachable (messages to it were lost). Called on a later turn than send(). */
  onUnreachable(id: NodeId): void;
  /** The connection to `id` reset under an established stream: its process is most likely gone (see PeerLink). */
  onConnectionLost?(id: NodeId): void;
  logger: Logger;
  /** Serves SetIsolated; off in production (the rpc then answers PERMISSION_DENIED). */
  enableFaults: boolean;
  bounds?: Partial<TransportBounds>;
  /** Cluster and incarnation checks on every peer stream, both ways. */
  gate?: PeerGate;
  /** The address book shared with peers (see peer-directory.ts). */
  directory?: PeerDirectory;
}

export class PeerTransport {
  private readonly bounds: TransportBounds;
  private readonly links = new Map<NodeId, PeerLink>();
  private readonly inbound: PeerInbound;
  private readonly closing = new AbortController();
  private readonly warnedUnknownPeers = new Set<NodeId>();
  private readonly counters = newTransportStats();
  private isolatedNow = false;

  constructor(private readonly opts: PeerTransportOptions) {
    this.bounds = resolveBounds(opts.bounds);
    for (const [id, address] of opts.peers) this.setPeer(id, address);
    this.inbound = new PeerInbound({
      selfId: opts.selfId,
      bounds: this.bounds,
      logger: opts.logger,
      stats: this.counters,
      enableFaults: opts.enableFaults,
      isIsolated: () => this.isolatedNow,
      setIsolated: (isolated) => this.setIsolated(isolated),
      onMessages: opts.onMessages,
      onSnapshot: opts.onSnapshot,
      gate: opts.gate,
      directory: opts.directory,
    });
  }

  /** Queues messages for their peers and returns at once. Never blocks, never throws. */
  send(messages: readonly Message[]): void {
    if (this.closing.signal.aborted || this.isolatedNow) {
      this.counters.outboundDropped += messages.length;
      return;
    }
    for (const m of messages) {
      try {
        this.route(m);
      } catch (err) {
        this.opts.logger.error({ err, to: m.to, type: m.type }, "raft message not sent");
      }
    }
  }

  /** Streams a snapshot: `message` is raft's Snap message (its `snapshot` the meta the chunks are the state of). */
  async sendSnapshot(message: Message, chunks: AsyncIterable<Uint8Array>): Promise<boolean> {
    const link = this.links.get(message.to);
    if (this.closing.signal.aborted || this.isolatedNow || link === undefined || message.snapshot === undefined) return false;
    try {
      return await streamSnapshot(
        {
          address: link.address,
          bounds: this.bounds,
          logger: this.opts.logger,
          signal: this.closing.signal,
          isIsolated: () => this.isolatedNow,
          claim: this.opts.gate?.self(),
        },
        message,
        chunks,
      );
    } catch (err) {
      this.opts.logger.warn({ err, to: message.to }, "snapshot send failed");
      return false;
    }
  }

  /** The Peer service, for a grpc.Server created with peerServerOptions(). */
  service(): { definition: grpc.ServiceDefinition; implementation: grpc.UntypedServiceImplementation } {
    return { definition: peerMethods().service, implementation: this.inbound.implementation() };
  }

  addTo(server: grpc.Server): void {
    const { definition, implementation } = this.service();
    server.addService(definition, implementation);
  }

  /** Adds a peer or moves it to a new address (membership change). */
  setPeer(id: NodeId, address: string): void {
    if (id === this.opts.selfId || this.links.get(id)?.address === address) return;
    this.links.get(id)?.close();
    const gate = this.opts.gate;
    const deps = {
      bounds: this.bounds,
      logger: this.opts.logger,
      stats: this.counters,
      onUnreachable: this.opts.onUnreachable,
      onConnectionLost: this.opts.onConnectionLost,
      claim: gate ? () => gate.self() : undefined,
      onRefused: gate ? (peer: NodeId, refusal: Refusal) => gate.refused(peer, refusal) : undefined,
      directory: this.opts.directory,
    };
    this.links.set(id, new PeerLink(id, address, deps));
  }

  removePeer(id: NodeId): void {
    this.links.get(id)?.close();
    this.links.delete(id);
  }

  /** A copy of the counters since start. */
  stats(): TransportStats {
    return { ...this.counters };
  }

  get isolated(): boolean {
    return this.isolatedNow;
  }

  /** While isolated, all raft traffic in and out is dropped (fault injection). */
  setIsolated(isolated: boolean): void {
    if (isolated === this.isolatedNow) return;
    this.isolatedNow = isolated;
    if (isolated) for (const link of this.links.values()) link.clear();
    this.opts.logger.warn({ isolated }, isolated ? "node isolated from its peers" : "node isolation cleared");
  }

  /** Ends every stream and timer. The grpc.Server itself belongs to the caller. */
  async close(): Promise<void> {
    this.closing.abort();
    this.inbound.close();
    for (const link of this.links.values()) link.close();
    this.links.clear();
  }

  private route(m: Message): void {
    if (m.type === MessageType.Snap) {
      this.opts.logger.error({ to: m.to }, "Snap messages go through sendSnapshot, with their data");
      this.counters.outboundDropped++;
      return;
    }
    const link = this.links.get(m.to);
    if (link !== undefined) {
      link.enqueue(m);
      return;
    }
    this.counters.outboundDropped++;
    if (!this.warnedUnknownPeers.has(m.to)) {
      this.warnedUnknownPeers.add(m.to);
      this.opts.logger.warn({ to: m.to }, "raft message for a node with no known address dropped");
    }
  }
}
