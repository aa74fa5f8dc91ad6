// The consumer-group commands and their binary codec (the header, u8 kind and u64 nowMs, is written by
// commands.ts). Strings are u32 length + UTF-8 (at most 65,535 bytes); lists are u32 count + items. Every field the coordinator
// decided (the new member's id, which member expired) is in the command, so apply decides nothing from
// a clock or a random source.
import { ByteReader, utf8 } from "./binary";

export enum GroupCommandKind {
  /** A new member joins, or a static member's new session takes its instance's place. */
  GroupJoin = 10,
  /** A member leaves, or the leader found its session expired. */
  GroupLeave = 11,
  /** A member released partitions revoked from it. */
  GroupRevoked = 12,
  CommitOffsets = 13,
  /** Sets offsets of an empty group (creating it if needed). */
  ResetOffsets = 14,
  DeleteGroup = 15,
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface GroupJoinCommand {
  kind: GroupCommandKind.GroupJoin;
  nowMs: number;
  groupId: string;
  /** Chosen by the leader. */
  memberId: string;
  /** "" = a dynamic member. */
  instanceId: string;
  clientId: string;
  topics: string[];
  sessionTimeoutMs: number;
  assignor: string;
}

export interface GroupLeaveCommand {
  kind: GroupCommandKind.GroupLeave;
  nowMs: number;
  groupId: string;
  memberId: string;
  /** True when the leader removes the member because its session expired at `nowMs`. */
  expired: boolean;
}

export interface GroupRevokedCommand {
  kind: GroupCommandKind.GroupRevoked;
  nowMs: number;
  groupId: string;
  memberId: string;
  generation: number;
  partitions: TopicPartition[];
}

export interface OffsetToCommit {
  topic: string;
  partition: number;
  offset: number;
  metadata: string;
}

export interface CommitOffsetsCommand {
  kind: GroupCommandKind.CommitOffsets;
  nowMs: number;
  groupId: string;
  memberId: string;
  generation: number;
  offsets: OffsetToCommit[];
}

export interface ResetOffsetsCommand {
  kind: GroupCommandKind.ResetOffsets;
  nowMs: number;
  groupId: string;
  topic: string;
  offsets: { partition: number; offset: number }[];
}

export interface DeleteGroupCommand {
  kind: GroupCommandKind.DeleteGroup;
  nowMs: number;
  groupId: string;
}

export type GroupCommand =
  | GroupJoinCommand
  | GroupLeaveCommand
  | GroupRevokedCommand
  | CommitOffsetsCommand
  | ResetOffsetsCommand
  | DeleteGroupCommand;

/** Writes strings, numbers and lists into one growing buffer (an ack command holds thousands of numbers). */
export class Parts {
  private buffer = new Uint8Array(256);
  private view = new DataView(this.buffer.buffer);
  private length = 0;

  private room(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + bytes));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }

  private push(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  number(bytes: 1 | 4 | 8, value: number): void {
    this.room(bytes);
    if (bytes === 1) this.buffer[this.length] = value;
    else if (bytes === 4) {
      if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`not a u32: ${value}`);
      this.view.setUint32(this.length, value);
    } else {
      if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a non-negative safe integer: ${value}`);
      this.view.setUint32(this.length, Math.floor(value / 0x1_0000_0000));
      this.view.setUint32(this.length + 4, value >>> 0);
    }
    this.length += bytes;
  }

  string(text: string): void {
    const bytes = utf8(text);
    if (bytes.length > 0xffff) throw new RangeError(`string of ${bytes.length} bytes is too long to encode`);
    this.number(4, bytes.length);
    this.push(bytes);
  }

  /** u32 length, then the bytes as they are. */
  bytes(bytes: Uint8Array): void {
    this.number(4, bytes.length);
    this.push(bytes);
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

/** The body after the header. */
export function encodeGroupBody(command: GroupCommand): Uint8Array {
  const p = new Parts();
  p.string(command.groupId);
  switch (command.kind) {
    case GroupCommandKind.GroupJoin:
      p.string(command.memberId);
      p.string(command.instanceId);
      p.string(command.clientId);
      p.number(4, command.topics.length);
      for (const t of command.topics) p.string(t);
      p.number(4, command.sessionTimeoutMs);
      p.string(command.assignor);
      break;
    case GroupCommandKind.GroupLeave:
      p.string(command.memberId);
      p.number(1, command.expired ? 1 : 0);
      break;
    case GroupCommandKind.GroupRevoked:
      p.string(command.memberId);
      p.number(4, command.generation);
      p.number(4, command.partitions.length);
      for (const tp of command.partitions) {
        p.string(tp.topic);
        p.number(4, tp.partition);
      }
      break;
    case GroupCommandKind.CommitOffsets:
      p.string(command.memberId);
      p.number(4, command.generation);
      p.number(4, command.offsets.length);
      for (const o of command.offsets) {
        p.string(o.topic);
        p.number(4, o.partition);
        p.number(8, o.offset);
        p.string(o.metadata);
      }
      break;
    case GroupCommandKind.ResetOffsets:
      p.string(command.topic);
      p.number(4, command.offsets.length);
      for (const o of command.offsets) {
        p.number(4, o.partition);
        p.number(8, o.offset);
      }
      break;
    case GroupCommandKind.DeleteGroup:
      break;
  }
  return p.finish();
}


/** Decodes the body of a group command of `kind`; damaged bytes throw the reader's error. */
export function decodeGroupBody(r: ByteReader, kind: GroupCommandKind, nowMs: number): GroupCommand {
  const groupId = r.str("group id");
  switch (kind) {
    case GroupCommandKind.GroupJoin:
      return {
        kind,
        nowMs,
        groupId,
        memberId: r.str("member id"),
        instanceId: r.str("instance id"),
        clientId: r.str("client id"),
        topics: r.list("topics", () => r.str("topic")),
        sessionTimeoutMs: r.u32("session timeout"),
        assignor: r.str("assignor"),
      };
    case GroupCommandKind.GroupLeave:
      return { kind, nowMs, groupId, memberId: r.str("member id"), expired: r.u8("expired") === 1 };
    case GroupCommandKind.GroupRevoked:
      return {
        kind,
        nowMs,
        groupId,
        memberId: r.str("member id"),
        generation: r.u32("generation"),
        partitions: r.list("partitions", () => ({ topic: r.str("topic"), partition: r.u32("partition") })),
      };
    case GroupCommandKind.CommitOffsets:
      return {
        kind,
        nowMs,
        groupId,
        memberId: r.str("member id"),
        generation: r.u32("generation"),
        offsets: r.list("offsets", () => ({
          topic: r.str("topic"),
          partition: r.u32("partition"),
          offset: r.u64("offset"),
          metadata: r.str("metadata"),
        })),
      };
    case GroupCommandKind.ResetOffsets:
      return {
        kind,
        nowMs,
        groupId,
        topic: r.str("topic"),
        offsets: r.list("offsets", () => ({ partition: r.u32("partition"), offset: r.u64("offset") })),
      };
    case GroupCommandKind.DeleteGroup:
      return { kind, nowMs, groupId };
  }
}

export function isGroupCommandKind(kind: number): kind is GroupCommandKind {
  return kind >= GroupCommandKind.GroupJoin && kind <= GroupCommandKind.DeleteGroup;
}
