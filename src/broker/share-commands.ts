// The share-group (work queue) commands and their binary codec; the header (u8 kind, u64 nowMs) is
// written by commands.ts. Strings are u32 length + UTF-8; lists u32 count + items. What the leader
// decided (which partitions to look at first, the dead letters' bytes) is in the command; which records
// an acquisition takes, and whether a lock has run out, apply decides from the state and `nowMs`.
import type { ByteReader } from "./binary";
import { Parts } from "./group-commands";
import type { ShareConfig } from "./share-records";

export enum ShareCommandKind {
  /** Creates a share group, or replaces its configuration. */
  ShareCreate = 20,
  /** Acquires up to maxRecords deliverable records for a consumer. */
  ShareAcquire = 21,
  /** ACCEPT, RELEASE and RENEW answers of one consumer. */
  ShareAck = 22,
  /** Appends dead letters to the dead-letter topic and retires their records, in one step. */
  ShareDeadLetter = 23,
  /** Deletes a share group's state (not its topics). */
  ShareDelete = 24,
}

export enum ShareAckType {
  Accept = 1,
  Release = 2,
  Renew = 4,
}

export interface ShareCreateCommand {
  kind: ShareCommandKind.ShareCreate;
  nowMs: number;
  groupId: string;
  topic: string;
  config: ShareConfig;
  /** For an existing group: replace its configuration (else leave it). */
  replace: boolean;
}

export interface ShareAcquireCommand {
  kind: ShareCommandKind.ShareAcquire;
  nowMs: number;
  groupId: string;
  consumerId: string;
  maxRecords: number;
  /** The partitions to take from, in this order (the leader rotates it for fairness). */
  partitions: number[];
}

export interface ShareAck {
  partition: number;
  offset: number;
  /** The delivery answered (its delivery count); 0 = whichever acquisition the consumer holds now. */
  deliveryCount: number;
  type: ShareAckType;
  /** RELEASE: not deliverable again before nowMs + delayMs (or the backoff, if longer). */
  delayMs: number;
}

export interface ShareAckCommand {
  kind: ShareCommandKind.ShareAck;
  nowMs: number;
  groupId: string;
  consumerId: string;
  acks: ShareAck[];
}

export interface DeadLetterEntry {
  partition: number;
  offset: number;
  /** The record's delivery count when the leader judged it (a reject: the delivery rejected). */
  deliveryCount: number;
  /** The consumer that rejected it; "" when it reached the delivery limit. */
  rejectedBy: string;
}

export interface ShareDeadLetterCommand {
  kind: ShareCommandKind.ShareDeadLetter;
  nowMs: number;
  groupId: string;
  entries: DeadLetterEntry[];
  /** A record batch of the dead letters, one record per entry in entry order, built by the leader. */
  blob: Uint8Array;
}

export interface ShareDeleteCommand {
  kind: ShareCommandKind.ShareDelete;
  nowMs: number;
  groupId: string;
  /** Delete it even while records are held under unexpired locks. */
  force: boolean;
}

export type ShareCommand = ShareCreateCommand | ShareAcquireCommand | ShareAckCommand | ShareDeadLetterCommand | ShareDeleteCommand;

export function isShareCommandKind(kind: number): kind is ShareCommandKind {
  return kind >= ShareCommandKind.ShareCreate && kind <= ShareCommandKind.ShareDelete;
}

/** The body after the header. */
export function encodeShareBody(command: ShareCommand): Uint8Array {
  const p = new Parts();
  p.string(command.groupId);
  switch (command.kind) {
    case ShareCommandKind.ShareCreate: {
      const c = command.config;
      p.string(command.topic);
      p.number(4, c.deliveryLimit);
      p.number(4, c.lockTimeoutMs);
      p.number(4, c.backoffInitialMs);
      p.number(4, c.backoffMaxMs);
      p.number(4, c.maxInFlightPerPartition);
      p.string(c.deadLetterTopic);
      p.number(1, command.replace ? 1 : 0);
      break;
    }
    case ShareCommandKind.ShareAcquire:
      p.string(command.consumerId);
      p.number(4, command.maxRecords);
      p.number(4, command.partitions.length);
      for (const partition of command.partitions) p.number(4, partition);
      break;
    case ShareCommandKind.ShareAck:
      p.string(command.consumerId);
      p.number(4, command.acks.length);
      for (const a of command.acks) {
        p.number(4, a.partition);
        p.number(8, a.offset);
        p.number(1, a.type);
        p.number(4, a.delayMs);
        p.number(4, a.deliveryCount);
      }
      break;
    case ShareCommandKind.ShareDeadLetter:
      p.number(4, command.entries.length);
      for (const e of command.entries) {
        p.number(4, e.partition);
        p.number(8, e.offset);
        p.number(4, e.deliveryCount);
        p.string(e.rejectedBy);
      }
      p.bytes(command.blob);
      break;
    case ShareCommandKind.ShareDelete:
      p.number(1, command.force ? 1 : 0);
      break;
  }
  return p.finish();
}


function ackType(value: number, malformed: (what: string) => Error): ShareAckType {
  if (value !== ShareAckType.Accept && value !== ShareAckType.Release && value !== ShareAckType.Renew) throw malformed(`ack type ${value}`);
  return value;
}

export function decodeShareBody(r: ByteReader, kind: ShareCommandKind, nowMs: number, malformed: (what: string) => Error): ShareCommand {
  const groupId = r.str("group id");
  switch (kind) {
    case ShareCommandKind.ShareCreate:
      return {
        kind,
        nowMs,
        groupId,
        topic: r.str("topic"),
        config: {
          deliveryLimit: r.u32("delivery limit"),
          lockTimeoutMs: r.u32("lock timeout"),
          backoffInitialMs: r.u32("backoff initial"),
          backoffMaxMs: r.u32("backoff max"),
          maxInFlightPerPartition: r.u32("max in flight"),
          deadLetterTopic: r.str("dead-letter topic"),
        },
        replace: r.u8("replace") === 1,
      };
    case ShareCommandKind.ShareAcquire:
      return {
        kind,
        nowMs,
        groupId,
        consumerId: r.str("consumer id"),
        maxRecords: r.u32("max records"),
        partitions: r.list("partitions", () => r.u32("partition")),
      };
    case ShareCommandKind.ShareAck:
      return {
        kind,
        nowMs,
        groupId,
        consumerId: r.str("consumer id"),
        acks: r.list("acks", () => ({
          partition: r.u32("partition"),
          offset: r.u64("offset"),
          type: ackType(r.u8("ack type"), malformed),
          delayMs: r.u32("delay"),
          deliveryCount: r.u32("delivery count"),
        })),
      };
    case ShareCommandKind.ShareDeadLetter: {
      const entries = r.list("entries", () => ({ partition: r.u32("partition"), offset: r.u64("offset"), deliveryCount: r.u32("delivery count"), rejectedBy: r.str("rejected by") }));
      return { kind, nowMs, groupId, entries, blob: r.slice(r.u32("blob length"), "blob") };
    }
    case ShareCommandKind.ShareDelete:
      return { kind, nowMs, groupId, force: r.u8("force") === 1 };
  }
}
