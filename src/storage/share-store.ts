// The share groups' part of the broker range (see broker-store.ts for the rest):
//
//   0x19 | group id (UTF-8)                  share group: u8 format version, then the group record
//                                            (topic, configuration, totals) as UTF-8 JSON
//   0x1A | u16 id length | group id | u32 partition
//                                            share partition: u8 format version (2), u64 start offset,
//                                            u64 window end, u16 owner count, { u16 length, owner
//                                            (UTF-8) }*, u32 run count, { u64 first offset, u32 count,
//                                            u8 state, u32 delivery count, u64 lockUntilMs,
//                                            u64 availableAtMs, u16 owner index }* (the window's records
//                                            as runs of alike ones, by offset)
//   0x1B | u16 id length | group id | u32 partition | u64 offset
//                                            written by earlier builds only: a record of the window,
//                                            u8 format version (1), u8 state, u32 delivery count,
//                                            u64 lockUntilMs, u64 availableAtMs, u16 owner length, owner.
//                                            Read with format 1 partitions (start and window end only);
//                                            the partition's next write replaces them with its runs.
//
// All three prefixes lie in the broker range, so snapshots carry the share groups like everything else.
import type { LoadedShares, ShareGroupRecord, ShareMutation, SharePartitionRecord, ShareRecordState, ShareRecordStateName, ShareRun } from "../broker";
import { readUint64BE, writeUint64BE } from "./bytes";
import type { Db } from "./db";

export const PREFIX_SHARE_GROUP = 0x19;
export const PREFIX_SHARE_PARTITION = 0x1a;
export const PREFIX_SHARE_RECORD = 0x1b;

const shareFormatVersion = 1;
const partitionFormatVersion = 2;
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

function checkVersion(value: Buffer, what: string, versions: readonly number[] = [shareFormatVersion]): void {
  if (value.length === 0 || !versions.includes(value[0])) {
    throw new Error(`${what} format ${value[0]} is not supported (this build reads ${versions.join(", ")})`);
  }
}

const runBytes = 8 + 4 + 1 + 4 + 8 + 8 + 2;

function encodePartition(p: SharePartitionRecord): Buffer {
  const owners = new Map<string, number>();
  for (const run of p.runs) if (!owners.has(run.owner)) owners.set(run.owner, owners.size);
  const ownerBytes = [...owners.keys()].map((o) => Buffer.from(o, "utf8"));
  if (ownerBytes.length > 0xffff) throw new RangeError(`share partition ${p.groupId}/${p.partition} has ${ownerBytes.length} owners`);
  const value = Buffer.allocUnsafe(17 + 2 + ownerBytes.reduce((n, b) => n + 2 + b.length, 0) + 4 + p.runs.length * runBytes);
  value[0] = partitionFormatVersion;
  writeUint64BE(value, 1, p.startOffset);
  writeUint64BE(value, 9, p.windowEnd);
  let at = value.writeUInt16BE(ownerBytes.length, 17);
  for (const b of ownerBytes) {
    at = value.writeUInt16BE(b.length, at);
    at += b.copy(value, at);
  }
  at = value.writeUInt32BE(p.runs.length, at);
  for (const run of p.runs) {
    writeUint64BE(value, at, run.first);
    at = value.writeUInt32BE(run.count, at + 8);
    at = value.writeUInt8(states.indexOf(run.state), at);
    at = value.writeUInt32BE(run.deliveryCount, at);
    writeUint64BE(value, at, run.lockUntilMs);
    writeUint64BE(value, at + 8, run.availableAtMs);
    at = value.writeUInt16BE(owners.get(run.owner) as number, at + 16);
  }
  return value;
}

function decodeRuns(value: Buffer, what: string): ShareRun[] {
  const malformed = (): Error => new Error(`malformed ${what}`);
  if (value.length < 17 + 2) throw malformed();
  const owners: string[] = [];
  let at = 17;
  const ownerCount = value.readUInt16BE(at);
  at += 2;
  for (let i = 0; i < ownerCount; i++) {
    if (at + 2 > value.length) throw malformed();
    const length = value.readUInt16BE(at);
    if (at + 2 + length > value.length) throw malformed();
    owners.push(value.toString("utf8", at + 2, at + 2 + length));
    at += 2 + length;
  }
  if (at + 4 > value.length) throw malformed();
  const runCount = value.readUInt32BE(at);
  at += 4;
  if (value.length !== at + runCount * runBytes) throw malformed();
  const runs: ShareRun[] = [];
  for (let i = 0; i < runCount; i++, at += runBytes) {
    const state = states[value[at + 12]];
    const owner = owners[value.readUInt16BE(at + 33)];
    if (state === undefined || owner === undefined) throw malformed();
    runs.push({
      first: readUint64BE(value, at),
      count: value.readUInt32BE(at + 8),
      state,
      deliveryCount: value.readUInt32BE(at + 13),
      lockUntilMs: readUint64BE(value, at + 17),
      availableAtMs: readUint64BE(value, at + 25),
      owner,
    });
  }
  return runs;
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
    case "deleteShareGroup":
      batch.del(groupKey(m.groupId));
      break;
    case "putSharePartition":
      batch.put(partitionKey(PREFIX_SHARE_PARTITION, m.partition.groupId, m.partition.partition).key, encodePartition(m.partition));
      break;
    case "deleteSharePartition":
      batch.del(partitionKey(PREFIX_SHARE_PARTITION, m.groupId, m.partition).key);
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
    checkVersion(value, "share partition", [shareFormatVersion, partitionFormatVersion]);
    const { groupId, partition, at } = groupAndPartition(key);
    if (key.length !== at || (value[0] === shareFormatVersion && value.length !== 17)) throw new Error(`malformed share partition key ${key.toString("hex")}`);
    const runs = value[0] === shareFormatVersion ? [] : decodeRuns(value, `share partition "${groupId}"/${partition}`);
    loaded.partitions.push({ groupId, partition, startOffset: readUint64BE(value, 1), windowEnd: readUint64BE(value, 9), runs });
  }
  for await (const [key, value] of db.iterator({ ...iteratorOptions, ...prefixOnly(PREFIX_SHARE_RECORD) })) {
    const { groupId, partition, at } = groupAndPartition(key);
    if (key.length !== at + 8) throw new Error(`malformed share record key ${key.toString("hex")}`);
    loaded.records.push({ groupId, partition, record: decodeRecord(readUint64BE(key, at), value) });
  }
  return loaded.groups.length > 0 ? loaded : undefined;
}
