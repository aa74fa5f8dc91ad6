// The share groups' part of the broker range (see broker-store.ts for the rest):
//
//   0x19 | group id (UTF-8)                  share group: u8 format version, then the group record
//                                            (topic, configuration, totals) as UTF-8 JSON
//   0x1A | u16 id length | group id | u32 partition
//                                            share partition: u8 format version, u64 start offset,
//                                            u64 window end
//   0x1B | u16 id length | group id | u32 partition | u64 offset
//                                            a record of the window: u8 format version, u8 state,
//                                            u32 delivery count, u64 lockUntilMs, u64 availableAtMs,
//                                            u16 owner length, owner (UTF-8)
//
// All three prefixes lie in the broker range, so snapshots carry the share groups like everything else.
import type { LoadedShares, ShareGroupRecord, ShareMutation, ShareRecordState, ShareRecordStateName } from "../broker";
import { readUint64BE, writeUint64BE } from "./bytes";
import type { Db } from "./db";

export const PREFIX_SHARE_GROUP = 0x19;
export const PREFIX_SHARE_PARTITION = 0x1a;
export const PREFIX_SHARE_RECORD = 0x1b;

const shareFormatVersion = 1;
const iteratorOptions = { keyEncoding: "buffer", valueEncoding: "buffer" } as const;
const states: readonly ShareRecordStateName[] = ["acquired", "available", "accepted", "deadLettered"];

export interface ShareWriteBatch {
  put(key: Buffer, value: Buffer): unknown;
  del(key: Buffer): unknown;
}

function groupKey(groupId: string): Buffer {
  return Buffer.concat([Buffer.from([PREFIX_SHARE_GROUP]), Buffer.from(groupId, "utf8")]);
}

/** prefix | u16 id length | id | u32 partition, and `extra` bytes after it for the caller. */
function partitionKey(prefix: number, groupId: string, partition: number, extra = 0): { key: Buffer; at: number } {
  const id = Buffer.from(groupId, "utf8");
  const key = Buffer.allocUnsafe(1 + 2 + id.length + 4 + extra);
  key[0] = prefix;
  key.writeUInt16BE(id.length, 1);
  id.copy(key, 3);
  key.writeUInt32BE(partition, 3 + id.length);
  return { key, at: 7 + id.length };
}

function recordKey(groupId: string, partition: number, offset: number): Buffer {
  const { key, at } = partitionKey(PREFIX_SHARE_RECORD, groupId, partition, 8);
  writeUint64BE(key, at, offset);
  return key;
}

function checkVersion(value: Buffer, what: string): void {
  if (value.length === 0 || value[0] !== shareFormatVersion) {
    throw new Error(`${what} format ${value[0]} is not supported (this build reads ${shareFormatVersion})`);
  }
}

function encodeRecord(r: ShareRecordState): Buffer {
  const owner = Buffer.from(r.owner, "utf8");
  const value = Buffer.allocUnsafe(1 + 1 + 4 + 8 + 8 + 2 + owner.length);
  value[0] = shareFormatVersion;
  value[1] = states.indexOf(r.state);
  value.writeUInt32BE(r.deliveryCount, 2);
  writeUint64BE(value, 6, r.lockUntilMs);
  writeUint64BE(value, 14, r.availableAtMs);
  value.writeUInt16BE(owner.length, 22);
  owner.copy(value, 24);
  return value;
}

function decodeRecord(offset: number, value: Buffer): ShareRecordState {
  checkVersion(value, "share record");
  const state = states[value[1]];
  if (state === undefined || value.length !== 24 + value.readUInt16BE(22)) throw new Error(`malformed share record at offset ${offset}`);
  return {
    offset,
    state,
    deliveryCount: value.readUInt32BE(2),
    lockUntilMs: readUint64BE(value, 6),
    availableAtMs: readUint64BE(value, 14),
    owner: value.toString("utf8", 24),
  };
}

export function addShareMutation(batch: ShareWriteBatch, m: ShareMutation): void {
  switch (m.kind) {
    case "putShareGroup":
      batch.put(groupKey(m.group.groupId), Buffer.concat([Buffer.from([shareFormatVersion]), Buffer.from(JSON.stringify(m.group), "utf8")]));
      break;
    case "putSharePartition": {
      const value = Buffer.allocUnsafe(17);
      value[0] = shareFormatVersion;
      writeUint64BE(value, 1, m.partition.startOffset);
      writeUint64BE(value, 9, m.partition.windowEnd);
      batch.put(partitionKey(PREFIX_SHARE_PARTITION, m.partition.groupId, m.partition.partition).key, value);
      break;
    }
    case "putShareRecord":
      batch.put(recordKey(m.groupId, m.partition, m.record.offset), encodeRecord(m.record));
      break;
    case "deleteShareRecords":
      for (const offset of m.offsets) batch.del(recordKey(m.groupId, m.partition, offset));
      break;
  }
}

function prefixOnly(prefix: number): { gte: Buffer; lt: Buffer } {
  return { gte: Buffer.from([prefix]), lt: Buffer.from([prefix + 1]) };
}

function groupAndPartition(key: Buffer): { groupId: string; partition: number; at: number } {
  const idLength = key.readUInt16BE(1);
  return { groupId: key.toString("utf8", 3, 3 + idLength), partition: key.readUInt32BE(3 + idLength), at: 7 + idLength };
}

/** The share groups, their partitions and windows; undefined when there are none. */
export async function loadShares(db: Db): Promise<LoadedShares | undefined> {
  const loaded: LoadedShares = { groups: [], partitions: [], records: [] };
  for await (const value of db.values({ ...iteratorOptions, ...prefixOnly(PREFIX_SHARE_GROUP) })) {
    checkVersion(value, "share group");
    loaded.groups.push(JSON.parse(value.toString("utf8", 1)) as ShareGroupRecord);
  }
  for await (const [key, value] of db.iterator({ ...iteratorOptions, ...prefixOnly(PREFIX_SHARE_PARTITION) })) {
    checkVersion(value, "share partition");
    const { groupId, partition, at } = groupAndPartition(key);
    if (key.length !== at || value.length !== 17) throw new Error(`malformed share partition key ${key.toString("hex")}`);
    loaded.partitions.push({ groupId, partition, startOffset: readUint64BE(value, 1), windowEnd: readUint64BE(value, 9) });
  }
  for await (const [key, value] of db.iterator({ ...iteratorOptions, ...prefixOnly(PREFIX_SHARE_RECORD) })) {
    const { groupId, partition, at } = groupAndPartition(key);
    if (key.length !== at + 8) throw new Error(`malformed share record key ${key.toString("hex")}`);
    loaded.records.push({ groupId, partition, record: decodeRecord(readUint64BE(key, at), value) });
  }
  return loaded.groups.length > 0 ? loaded : undefined;
}
