// One gRPC channel per broker address, shared by that broker's Producer, Consumer and Admin stubs, and
// what the client knows of who leads. Addresses come from the bootstrap list, from leader hints, and from
// the members DescribeCluster lists (member-refresh.ts asks on its own, so a client given one address
// finds nodes added later), which name cluster members only, so the pool holds at most one channel per
// member.
import * as grpc from "@grpc/grpc-js";
import type { AdminClient } from "../generated/raftline/v1/Admin";
import type { ConsumerClient } from "../generated/raftline/v1/Consumer";
import type { ConsumerGroupsClient } from "../generated/raftline/v1/ConsumerGroups";
import type { ProducerClient } from "../generated/raftline/v1/Producer";
import type { ShareGroupsClient } from "../generated/raftline/v1/ShareGroups";
import type { RaftlineError } from "./errors";
import { raftlineApi } from "./proto";

export interface BrokerStubs {
  address: string;
  producer: ProducerClient;
  consumer: ConsumerClient;
  admin: AdminClient;
  groups: ConsumerGroupsClient;
  shares: ShareGroupsClient;
}

export interface ChannelLimits {
  /** Largest response accepted (a fetch answer, a subscribe push). */
  maxReceiveMessageBytes: number;
  /** Reconnect backoff ceiling: a restarted node is found again within about this long. */
  reconnectBackoffMaxMs: number;
}

export const defaultChannelLimits: Readonly<ChannelLimits> = {
  maxReceiveMessageBytes: 64 * 1024 * 1024,
  reconnectBackoffMaxMs: 1000,
};

const reconnectBackoffInitialMs = 100;

interface Connection extends BrokerStubs {
  channel: grpc.Channel;
}

export class BrokerPool {
  private readonly connections = new Map<string, Connection>();
  private leaderAddress: string | undefined;
  private nextBootstrap = 0;
  /** The brokers tried in turn: the cluster's members as last described, then the bootstrap list. */
  private rotation: readonly string[];
  private closed = false;
  private unreachableListener: (() => void) | undefined;

  constructor(
    private readonly bootstrap: readonly string[],
    private readonly clientId: string,
    private readonly limits: ChannelLimits = defaultChannelLimits,
  ) {
    if (bootstrap.length === 0) throw new RangeError("at least one broker address is required");
    this.rotation = bootstrap;
  }

  /** The members' client addresses from DescribeCluster: tried before the bootstrap list from now on. */
  noteMembers(addresses: readonly string[]): void {
    const members = addresses.filter((a) => a.length > 0);
    if (members.length === 0) return;
    this.rotation = [...new Set([...members, ...this.bootstrap])];
  }

  /** The brokers this client rotates through. */
  get brokers(): readonly string[] {
    return this.rotation;
  }

  /** The known leader when `preferLeader` and one is known, else the bootstrap brokers in turn. */
  target(preferLeader: boolean): string {
    if (preferLeader && this.leaderAddress !== undefined) return this.leaderAddress;
    return this.rotation[this.nextBootstrap % this.rotation.length];
  }

  get leader(): string | undefined {
    return this.leaderAddress;
  }

  noteLeader(address: string | undefined): void {
    if (address) this.leaderAddress = address;
  }

  /** Called when a broker could not be reached (the member list may have changed). */
  onUnreachable(listener: () => void): void {
    this.unreachableListener = listener;
  }

  /** Learns from a failure: a hint names the leader; a broker that failed retriably is passed over. */
  noteError(err: RaftlineError): void {
    if (err.leaderAddress !== undefined) {
      this.leaderAddress = err.leaderAddress;
      return;
    }
    if (!err.retriable || err.address === undefined) return;
    if (err.codeName === "UNAVAILABLE") this.unreachableListener?.();
    this.passOver(err.address);
  }

  /** The broker at `address` failed: no longer the leader as far as this client knows, and not next in turn. */
  passOver(address: string): void {
    if (address === this.leaderAddress) this.leaderAddress = undefined;
    if (this.rotation[this.nextBootstrap % this.rotation.length] === address) this.nextBootstrap++;
  }

  stubs(address: string): BrokerStubs {
    if (this.closed) throw new Error("the client is closed");
    let c = this.connections.get(address);
    if (!c) {
      c = this.connect(address);
      this.connections.set(address, c);
    }
    return c;
  }

  close(): void {
    this.closed = true;
    for (const c of this.connections.values()) c.channel.close();
    this.connections.clear();
  }

  private connect(address: string): Connection {
    const api = raftlineApi();
    const credentials = grpc.credentials.createInsecure();
    const channel = new grpc.Channel(address, credentials, {
      "grpc.primary_user_agent": `raftline-js/${this.clientId}`,
      "grpc.max_receive_message_length": this.limits.maxReceiveMessageBytes,
      "grpc.initial_reconnect_backoff_ms": reconnectBackoffInitialMs,
      "grpc.max_reconnect_backoff_ms": this.limits.reconnectBackoffMaxMs,
    });
    const shared = { channelOverride: channel };
    return {
      address,
      channel,
      producer: new api.Producer(address, credentials, shared),
      consumer: new api.Consumer(address, credentials, shared),
      admin: new api.Admin(address, credentials, shared),
      groups: new api.ConsumerGroups(address, credentials, shared),
      shares: new api.ShareGroups(address, credentials, shared),
    };
  }
}
