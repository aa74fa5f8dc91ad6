// Followers forward writes and admin calls to the leader: one hop, under the caller's deadline. The
// forwarded call is marked so that a node which is not the leader either answers it or fails it with a
// leader hint, and never forwards it again (no forwarding loops during elections).
import * as grpc from "@grpc/grpc-js";
import type { AdminClient } from "../generated/raftline/v1/Admin";
import type { ConsumerGroupsClient } from "../generated/raftline/v1/ConsumerGroups";
import type { ProducerClient } from "../generated/raftline/v1/Producer";
import type { ShareGroupsClient } from "../generated/raftline/v1/ShareGroups";
import type { ClusterMember } from "./config";
import { publicApi } from "./public-proto";

export const forwardedHeader = "raftline-forwarded-by";

/** Bounds the default deadline when the caller set none. */
export const defaultForwardDeadlineMs = 10000;

interface Clients {
  producer: ProducerClient;
  admin: AdminClient;
  groups: ConsumerGroupsClient;
  shares: ShareGroupsClient;
}

export class LeaderForwarder {
  private readonly clients = new Map<number, Clients>();

  constructor(
    private readonly members: ClusterMember[],
    private readonly selfId: number,
    private readonly maxMessageBytes: number,
  ) {}

  static isForwarded(md: grpc.Metadata): boolean {
    return md.get(forwardedHeader).length > 0;
  }

  producer(leaderId: number): ProducerClient {
    return this.clientsFor(leaderId).producer;
  }

  admin(leaderId: number): AdminClient {
    return this.clientsFor(leaderId).admin;
  }

  groups(leaderId: number): ConsumerGroupsClient {
    return this.clientsFor(leaderId).groups;
  }

  shares(leaderId: number): ShareGroupsClient {
    return this.clientsFor(leaderId).shares;
  }

  metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    md.set(forwardedHeader, String(this.selfId));
    return md;
  }

  /** The caller's deadline, or a bounded default so that a forwarded call never hangs. */
  static deadlineOf(call: { getDeadline(): grpc.Deadline }): Date {
    const d = call.getDeadline();
    const ms = d instanceof Date ? d.getTime() : Number(d);
    return Number.isFinite(ms) ? new Date(ms) : new Date(Date.now() + defaultForwardDeadlineMs);
  }

  /** Drops the clients of a member that moved; the next call connects to its new address. */
  forget(id: number): void {
    const c = this.clients.get(id);
    if (!c) return;
    c.producer.close();
    c.admin.close();
    c.groups.close();
    this.clients.delete(id);
  }

  close(): void {
    for (const c of this.clients.values()) {
      c.producer.close();
      c.admin.close();
      c.groups.close();
      c.shares.close();
    }
    this.clients.clear();
  }

  private clientsFor(id: number): Clients {
    let c = this.clients.get(id);
    if (!c) {
      const member = this.members.find((m) => m.id === id);
      if (!member) throw new Error(`unknown node ${id}`);
      const api = publicApi();
      const creds = grpc.credentials.createInsecure();
      const options = {
        "grpc.max_receive_message_length": this.maxMessageBytes,
        "grpc.max_send_message_length": this.maxMessageBytes,
      };
      c = {
        producer: new api.Producer(member.clientAddress, creds, options),
        admin: new api.Admin(member.clientAddress, creds, options),
        groups: new api.ConsumerGroups(member.clientAddress, creds, options),
        shares: new api.ShareGroups(member.clientAddress, creds, options),
      };
      this.clients.set(id, c);
    }
    return c;
  }
}
