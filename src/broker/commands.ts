// The state machine's command set and its binary codec. A command is what the leader proposes and every
// node applies; it carries the leader's clock (`nowMs`) because apply must never read a clock of its own.
//
// Encoding: u8 kind, u64 nowMs, then the kind's fields. Strings are u16 length + UTF-8. New kinds get new
// numbers; a number is never reused. Record batches are copied into the command once and decode back as
// views of it, never re-encoded. Fields added to a kind later go in an optional trailing section that
// is written only when used, so entries written before the field existed still decode unchanged.
import { ByteReader, ByteWriter, utf8 } from "./binary";
import { GroupCommand, decodeGroupBody, encodeGroupBody, isGroupCommandKind } from "./group-commands";
import type { MemberRecord } from "./member-records";
import { ShareCommand, decodeShareBody, encodeShareBody, isShareCommandKind } from "./share-commands";
import { type SecurityCommand, decodeSecurityBody, encodeSecurityCommand, isSecurityCommandKind } from "./security-commands";

export enum CommandKind {
  CreateTopic = 1,
  DeleteTopic = 2,
  Produce = 3,
  /** Periodic housekeeping: retention, removal of deleted topics' data, producer expiry, as of `nowMs`. */
  Tick = 4,
  /** Allocates an idempotent producer id, or bumps an existing one's epoch. */
  InitProducer = 5,
  // 10..19: the consumer-group commands of group-commands.ts (GroupCommandKind).
  /** Records what the cluster knows of one member (member-records.ts), replacing its earlier record. */
  PutMember = 40,
  // 20..29: the share-group (work queue) commands of share-commands.ts (ShareCommandKind).
  // 30..39: ACL and token commands of security-commands.ts (SecurityCommandKind).
}

export interface CreateTopicCommand {
  kind: CommandKind.CreateTopic;
  nowMs: number;
  name: string;
  partitions: number;
  /** 0 = no age limit. */
  retentionMs: number;
  /** 0 = no size limit (per partition). */
  retentionBytes: number;
  /** 0 = the default. */
  maxRecordBytes: number;
  /**
   * The caller's id for this create, remembered with the topic so that a retry with the same id and
   * configuration answers with the topic instead of ALREADY_EXISTS. Absent or "": none.
   */
  requestId?: string;
}

export interface DeleteTopicCommand {
  kind: CommandKind.DeleteTopic;
  nowMs: number;
  name: string;
}

/** What makes a batch idempotent: who sent it and its place in that producer's stream to the partition. */
export interface ProducerStamp {
  producerId: number;
  epoch: number;
  /** Sequence of the batch's first record; the others follow (modulo 2^31). */
  baseSequence: number;
}

/** One encoded record batch for one partition (the partition is always chosen before proposing). */
export interface ProduceCommandBatch {
  topic: string;
  partition: number;
  /** An encoded record batch (record-batch.ts), stored as is. */
  blob: Uint8Array;
  /** Present only for an idempotent batch. */
  producer?: ProducerStamp;
}

export interface ProduceCommand {
  kind: CommandKind.Produce;
  nowMs: number;
  batches: ProduceCommandBatch[];
}

export interface TickCommand {
  kind: CommandKind.Tick;
  nowMs: number;
  /**
   * Producers idle longer than this are forgotten. Carried in the command so every node decides with the
   * leader's setting; absent (entries from before the field existed): the default of producer-table.ts.
   */
  producerExpiryMs?: number;
}

export interface InitProducerCommand {
  kind: CommandKind.InitProducer;
  nowMs: number;
  /** 0: allocate a new producer id. Otherwise: bump this producer's epoch. */
  producerId: number;
}

export interface PutMemberCommand {
  kind: CommandKind.PutMember;
  nowMs: number;
  member: MemberRecord;
}

export type Command =
  | PutMemberCommand
  | CreateTopicCommand
  | DeleteTopicCommand
  | ProduceCommand
  | TickCommand
  | InitProducerCommand
  | GroupCommand
  | ShareCommand
  | SecurityCommand;

function isGroupCommand(command: Command): command is GroupCommand {
  return isGroupCommandKind(command.kind);
}

function isShareCommand(command: Command): command is ShareCommand {
  return isShareCommandKind(command.kind);
}

function encodeGroupCommand(command: GroupCommand | ShareCommand): Uint8Array {
  const body = isShareCommand(command) ? encodeShareBody(command) : encodeGroupBody(command);
  const w = new ByteWriter(commandHeaderBytes + body.length);
  w.u8(command.kind);
  w.u64(command.nowMs);
  w.raw(body);
  return w.finish();
}

/** A command this build cannot decode: a newer node proposed it, or the entry is damaged. */
export class UnsupportedCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnsupportedCommandError";
  }
}

const commandHeaderBytes = 1 + 8;
const maxStringBytes = 0xffff;

function encodedString(text: string): Uint8Array {
  const bytes = utf8(text);
  if (bytes.length > maxStringBytes) throw new RangeError(`string of ${bytes.length} bytes is too long to encode`);
  return bytes;
}

function writeString(w: ByteWriter, bytes: Uint8Array): void {
  w.u16(bytes.length);
  w.raw(bytes);
}

export function encodeCommand(command: Command): Uint8Array {
  if (isGroupCommand(command) || isShareCommand(command)) return encodeGroupCommand(command);
  if (isSecurityCommandKind(command.kind)) return encodeSecurityCommand(command as SecurityCommand);
  switch (command.kind) {
    case CommandKind.CreateTopic: {
      const name = encodedString(command.name);
      // The request id trails the fields from before it, and only when set.
      const requestId = command.requestId ? encodedString(command.requestId) : undefined;
      const w = new ByteWriter(commandHeaderBytes + 2 + name.length + 4 + 8 + 8 + 4 + (requestId ? 2 + requestId.length : 0));
      w.u8(command.kind);
      w.u64(command.nowMs);
      writeString(w, name);
      w.u32(command.partitions);
      w.u64(command.retentionMs);
      w.u64(command.retentionBytes);
      w.u32(command.maxRecordBytes);
      if (requestId) writeString(w, requestId);
      return w.finish();
    }
    case CommandKind.DeleteTopic: {
      const name = encodedString(command.name);
      const w = new ByteWriter(commandHeaderBytes + 2 + name.length);
      w.u8(command.kind);
      w.u64(command.nowMs);
      writeString(w, name);
      return w.finish();
    }
    case CommandKind.Produce:
      return encodeProduce(command);
    case CommandKind.Tick: {
      const expiry = command.producerExpiryMs;
      const w = new ByteWriter(commandHeaderBytes + (expiry === undefined ? 0 : 8));
      w.u8(command.kind);
      w.u64(command.nowMs);
      if (expiry !== undefined) w.u64(expiry);
      return w.finish();
    }
    case CommandKind.InitProducer: {
      const w = new ByteWriter(commandHeaderBytes + 8);
      w.u8(command.kind);
      w.u64(command.nowMs);
      w.u64(command.producerId);
      return w.finish();
    }
    case CommandKind.PutMember: {
      // u64 id, u8 flags (bit 0: stay learner), then incarnation, client address, peer address as strings.
      const m = command.member;
      const strings = [m.incarnation, m.clientAddress, m.peerAddress].map(encodedString);
      const w = new ByteWriter(commandHeaderBytes + 8 + 1 + strings.reduce((n, b) => n + 2 + b.length, 0));
      w.u8(command.kind);
      w.u64(command.nowMs);
      w.u64(m.id);
      w.u8(m.stayLearner ? 1 : 0);
      for (const b of strings) writeString(w, b);
      return w.finish();
    }
  }
}

// Producer stamps trail the batches: u32 count, then per stamped batch u32 batch index, u64 producer id,
// u32 epoch, u32 base sequence. Absent when no batch is idempotent (the layout from before stamps).
const stampBytes = 4 + 8 + 4 + 4;

function encodeProduce(command: ProduceCommand): Uint8Array {
  const topics = command.batches.map((b) => encodedString(b.topic));
  const stamped = command.batches.flatMap((b, index) => (b.producer ? [{ index, stamp: b.producer }] : []));
  let length = commandHeaderBytes + 4;
  command.batches.forEach((b, i) => (length += 2 + topics[i].length + 4 + 4 + b.blob.length));
  if (stamped.length > 0) length += 4 + stamped.length * stampBytes;
  const w = new ByteWriter(length);
  w.u8(command.kind);
  w.u64(command.nowMs);
  w.u32(command.batches.length);
  command.batches.forEach((b, i) => {
    writeString(w, topics[i]);
    w.u32(b.partition);
    w.u32(b.blob.length);
    w.raw(b.blob);
  });
  if (stamped.length > 0) {
    w.u32(stamped.length);
    for (const { index, stamp } of stamped) {
      w.u32(index);
      w.u64(stamp.producerId);
      w.u32(stamp.epoch);
      w.u32(stamp.baseSequence);
    }
  }
  return w.finish();
}

function malformed(what: string): Error {
  return new UnsupportedCommandError(`malformed command: ${what}`);
}

/** Decodes a command; blobs are views into `bytes`. Throws UnsupportedCommandError. */
export function decodeCommand(bytes: Uint8Array): Command {
  const r = new ByteReader(bytes, malformed);
  const kind = r.u8("kind");
  const nowMs = r.u64("nowMs");
  const command = decodeBody(r, kind, nowMs);
  if (r.remaining !== 0) throw malformed(`${r.remaining} trailing bytes after command kind ${kind}`);
  return command;
}

function readString(r: ByteReader, what: string): string {
  return r.utf8(r.u16(what), what);
}

function decodeBody(r: ByteReader, kind: number, nowMs: number): Command {
  if (isGroupCommandKind(kind)) return decodeGroupBody(r, kind, nowMs);
  if (isShareCommandKind(kind)) return decodeShareBody(r, kind, nowMs, malformed);
  if (isSecurityCommandKind(kind)) return decodeSecurityBody(r, kind, nowMs, malformed);
  switch (kind) {
    case CommandKind.CreateTopic: {
      const command: CreateTopicCommand = {
        kind,
        nowMs,
        name: readString(r, "topic name"),
        partitions: r.u32("partitions"),
        retentionMs: r.u64("retentionMs"),
        retentionBytes: r.u64("retentionBytes"),
        maxRecordBytes: r.u32("maxRecordBytes"),
      };
      if (r.remaining > 0) command.requestId = readString(r, "request id");
      return command;
    }
    case CommandKind.DeleteTopic:
      return { kind, nowMs, name: readString(r, "topic name") };
    case CommandKind.Produce: {
      const count = r.u32("batch count");
      const batches: ProduceCommandBatch[] = [];
      for (let i = 0; i < count; i++) {
        const topic = readString(r, "topic");
        const partition = r.u32("partition");
        batches.push({ topic, partition, blob: r.slice(r.u32("blob length"), "blob") });
      }
      if (r.remaining > 0) readStamps(r, batches);
      return { kind, nowMs, batches };
    }
    case CommandKind.Tick:
      return r.remaining > 0 ? { kind, nowMs, producerExpiryMs: r.u64("producerExpiryMs") } : { kind, nowMs };
    case CommandKind.InitProducer:
      return { kind, nowMs, producerId: r.u64("producerId") };
    case CommandKind.PutMember: {
      const id = r.u64("member id");
      const flags = r.u8("member flags");
      if (flags > 1) throw malformed(`member flags ${flags}`);
      const incarnation = readString(r, "incarnation");
      const clientAddress = readString(r, "client address");
      const peerAddress = readString(r, "peer address");
      return { kind, nowMs, member: { id, incarnation, stayLearner: flags === 1, clientAddress, peerAddress } };
    }
    default:
      throw new UnsupportedCommandError(`unknown command kind ${kind}: written by a newer version?`);
  }
}

function readStamps(r: ByteReader, batches: ProduceCommandBatch[]): void {
  const count = r.u32("stamp count");
  if (count === 0 || count > batches.length) throw malformed(`${count} producer stamps for ${batches.length} batches`);
  for (let i = 0; i < count; i++) {
    const batch = batches[r.u32("stamped batch index")];
    if (!batch || batch.producer) throw malformed("producer stamp for a missing or already stamped batch");
    batch.producer = { producerId: r.u64("producerId"), epoch: r.u32("epoch"), baseSequence: r.u32("baseSequence") };
  }
}
