// The consumer groups' part of the broker range (see broker-store.ts for the rest):
//
//   0x17 | group id (UTF-8)                  group: u8 format version, then the group record (members,
//                                            assignments, generations) as UTF-8 JSON. Written only when
//                                            membership or ownership changes, never per commit.
//   0x18 | u16 id length | group id | u32 topicId | u32 partition
//                                            committed offset: u8 format version, u64 offset,
//                                            u64 committedAtMs, u16 metadata length, metadata (UTF-8)
//
// Both prefixes lie in the broker range, so snapshots carry the groups like everything else.
import type { GroupMutation, GroupRecord, LoadedGroups, OffsetRecord } from "../broker";
import { readUint64BE, writeUint64BE } from "./bytes";
import { StorageCorruption } from "./corruption";
import type { Db } from "./db";

export const PREFIX_GROUP = 0x17;
export const PREFIX_GROUP_OFFSET = 0x18;

const groupFormatVersion = 1;
const iteratorOptions = { keyEncoding: "buffer", valueEncoding: "buffer" } as const;

export interface GroupWriteBatch {
  put(key: Buffer, value: Buffer): unknown;
  del(key: Buffer): unknown;
}

function groupKey(groupId: string): Buffer {
  return Buffer.concat([Buffer.from([PREFIX_GROUP]), Buffer.from(groupId, "utf8")]);
}

function offsetKey(groupId: string, topicId: number, partition: number): Buffer {
  const id = Buffer.from(groupId, "utf8");
  const key = Buffer.allocUnsafe(1 + 2 + id.length + 8);
  key[0] = PREFIX_GROUP_OFFSET;
  key.writeUInt16BE(id.length, 1);
  id.copy(key, 3);
  key.writeUInt32BE(topicId, 3 + id.length);
  key.writeUInt32BE(partition, 7 + id.length);
  return key;
}

function encodeGroup(group: GroupRecord): Buffer {
  return Buffer.concat([Buffer.from([groupFormatVersion]), Buffer.from(JSON.stringify(group), "utf8")]);
}

function checkVersion(value: Buffer, what: string): void {
  if (value.length === 0 || value[0] !== groupFormatVersion) {
    throw new Error(`${what} format ${value[0]} is not supported (this build reads ${groupFormatVersion})`);
  }
}

function decodeGroup(value: Buffer): GroupRecord {
  checkVersion(value, "group record");
  return JSON.parse(value.toString("utf8", 1)) as GroupRecord;
}

function encodeOffset(o: OffsetRecord): Buffer {
  const metadata = Buffer.from(o.metadata, "utf8");
  const value = Buffer.allocUnsafe(1 + 8 + 8 + 2 + metadata.length);
  value[0] = groupFormatVersion;
  writeUint64BE(value, 1, o.offset);
  writeUint64BE(value, 9, o.committedAtMs);
  value.writeUInt16BE(metadata.length, 17);
  metadata.copy(value, 19);
  return value;
}

function decodeOffset(key: Buffer, value: Buffer): OffsetRecord {
  checkVersion(value, "committed offset");
  const idLength = key.readUInt16BE(1);
  if (key.length !== 3 + idLength + 8 || value.length !== 19 + value.readUInt16BE(17)) {
    throw new StorageCorruption(`malformed committed offset key ${key.toString("hex")}`);
  }
  return {
    groupId: key.toString("utf8", 3, 3 + idLength),
    topicId: key.readUInt32BE(3 + idLength),
    partition: key.readUInt32BE(7 + idLength),
    offset: readUint64BE(value, 1),
    committedAtMs: readUint64BE(value, 9),
    metadata: value.toString("utf8", 19),
  };
}

export function addGroupMutation(batch: GroupWriteBatch, m: GroupMutation): void {
  switch (m.kind) {
    case "putGroup":
      batch.put(groupKey(m.group.groupId), encodeGroup(m.group));
      break;
    case "removeGroup":
      for (const o of m.offsets) batch.del(offsetKey(m.groupId, o.topicId, o.partition));
      batch.del(groupKey(m.groupId));
      break;
    case "putOffset":
      batch.put(offsetKey(m.offset.groupId, m.offset.topicId, m.offset.partition), encodeOffset(m.offset));
      break;
  }
}

function prefixOnly(prefix: number): { gte: Buffer; lt: Buffer } {
  return { gte: Buffer.from([prefix]), lt: Buffer.from([prefix + 1]) };
}

/** The groups and their offsets; undefined when there are none. */
export async function loadGroups(db: Db): Promise<LoadedGroups | undefined> {
  const loaded: LoadedGroups = { groups: [], offsets: [] };
  for await (const value of db.values({ ...iteratorOptions, ...prefixOnly(PREFIX_GROUP) })) loaded.groups.push(decodeGroup(value));
  for await (const [key, value] of db.iterator({ ...iteratorOptions, ...prefixOnly(PREFIX_GROUP_OFFSET) })) {
    loaded.offsets.push(decodeOffset(key, value));
  }
  return loaded.groups.length > 0 ? loaded : undefined;
}
