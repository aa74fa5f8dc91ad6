// The broker's replicated state in LevelDB, all inside the broker range 0x10..0x1F (keys.ts). Keys are
// big-endian so LevelDB order is offset order, and restart reads only the small index keys, never the
// record data.
//
// A record batch is stored once: in the committed raft entry whose command carried it. Its index entry
// says which entry and where in it; the entry's key stays after log compaction until the last batch it
// holds is removed (EntryRefs), and a snapshot carries the entries its index points at.
//
//   0x10                                     meta: u8 format version (2), u32 next topic id
//   0x11 | u32 topicId                       topic record (see encodeTopic)
//   0x12 | u32 topicId | u32 part | u64 base batch index entry: u64 lastOffset, u64 maxTimestampMs, u32 bytes,
//                                            u64 raft entry index, u32 offset of the batch in the entry's command
//   0x13                                     unused since format 2 (format 1 stored a copy of each batch here)
//   0x14                                     producer meta: u8 format version, u64 next producer id
//   0x15 | u64 producerId                    producer: u8 format version, u32 epoch, u64 lastActiveMs
//   0x16 | u64 producerId | u32 topicId | u32 part
//                                            sequence state: u8 format version (2), u32 epoch, u8 count, then
//                                            per remembered batch u32 baseSequence, u32 recordCount, u64 baseOffset,
//                                            u8 1 + u32 fingerprint, or u8 0 + u32 0 for an unknown one
//                                            (version 1, still read: the same without the last 5 bytes; every
//                                            fingerprint is unknown)
//   0x17, 0x18                               consumer groups and committed offsets (group-store.ts)
//   0x19, 0x1A, 0x1B                         share groups, their partitions and windows (share-store.ts)
//   0x1C, 0x1D                               ACLs and token hashes (security-store.ts)
//   0x1E                                     member records (member-store.ts)
import type { LoadedBrokerState, LoadedPartition } from "../broker/broker-state";
import type { StoredBatch } from "../broker/fetch-records";
import type { BrokerMutation, CachedBatch, ProducerPartitionRecord, ProducerRecord, TopicRecord } from "../broker/mutations";
import type { LoadedProducers } from "../broker/producer-table";
import type { BatchIndexEntry } from "../broker/partition-log";
import { readUint64BE, writeUint64BE } from "./bytes";
import { StorageCorruption } from "./corruption";
import type { Db } from "./db";
import type { EntryRefs } from "./entry-refs";
import { entryDataStart } from "./raft-codec";
import { PREFIX_GROUP_OFFSET, addGroupMutation, loadGroups } from "./group-store";
import { PREFIX_BROKER_MAX, PREFIX_BROKER_MIN, entryKey } from "./keys";
import { PREFIX_MEMBER, encodeMember, loadMembers, memberKey } from "./member-store";
import { PREFIX_SHARE_RECORD, addShareMutation, loadShares } from "./share-store";
import { PREFIX_TOKEN, addSecurityMutation, loadSecurity } from "./security-store";

const PREFIX_META = 0x10;
const PREFIX_TOPIC = 0x11;
const PREFIX_BATCH_INDEX = 0x12;
const PREFIX_PRODUCER_META = 0x14;
const PREFIX_PRODUCER = 0x15;
const PREFIX_PRODUCER_PARTITION = 0x16;

if (PREFIX_META < PREFIX_BROKER_MIN || PREFIX_PRODUCER_PARTITION > PREFIX_BROKER_MAX || PREFIX_GROUP_OFFSET > PREFIX_BROKER_MAX || PREFIX_MEMBER > PREFIX_BROKER_MAX || PREFIX_SHARE_RECORD > PREFIX_BROKER_MAX || PREFIX_TOKEN > PREFIX_BROKER_MAX) {
  throw new Error("broker key prefixes must stay inside the broker range");
}

/** Bumped when the layout changes; a node refuses state written in a format it does not know. */
const formatVersion = 2;
/** Stored each batch a second time, outside its raft entry; not migrated (see decodeMeta). */
const recordsCopiedFormatVersion = 1;
const topicFormatVersion = 1;
const firstTopicId = 1;

const META_KEY = Buffer.from([PREFIX_META]);
const batchKeyBytes = 1 + 4 + 4 + 8;
const indexValueBytes = 8 + 8 + 4 + 8 + 4;

const iteratorOptions = { keyEncoding: "buffer", valueEncoding: "buffer" } as const;

function topicKey(topicId: number): Buffer {
  const key = Buffer.allocUnsafe(5);
  key[0] = PREFIX_TOPIC;
  key.writeUInt32BE(topicId, 1);
  return key;
}

function batchKey(topicId: number, partition: number, baseOffset: number): Buffer {
  const key = Buffer.allocUnsafe(batchKeyBytes);
  key[0] = PREFIX_BATCH_INDEX;
  key.writeUInt32BE(topicId, 1);
  key.writeUInt32BE(partition, 5);
  writeUint64BE(key, 9, baseOffset);
  return key;
}

function encodeMeta(nextTopicId: number): Buffer {
  const value = Buffer.allocUnsafe(5);
  value[0] = formatVersion;
  value.writeUInt32BE(nextTopicId, 1);
  return value;
}

function decodeMeta(value: Buffer | undefined): number {
  if (value === undefined) return firstTopicId;
  if (value[0] === recordsCopiedFormatVersion) {
    throw new Error(
      `broker state format ${recordsCopiedFormatVersion} is not supported (this build reads ${formatVersion}): the data directory was written by an ` +
        "older build that stored each record twice, and this one cannot convert it; start this node on an empty data directory",
    );
  }
  if (value.length !== 5 || value[0] !== formatVersion) {
    throw new Error(`broker state format ${value[0]} is not supported (this build reads ${formatVersion})`);
  }
  return value.readUInt32BE(1);
}

function encodeTopic(topic: TopicRecord): Buffer {
  const name = Buffer.from(topic.name, "utf8");
  // The create request id trails the fields from before it, and only when set.
  const requestId = Buffer.from(topic.createRequestId, "utf8");
  const value = Buffer.allocUnsafe(1 + 4 + 1 + 2 + name.length + 4 + 8 + 8 + 4 + 8 + (requestId.length > 0 ? 2 + requestId.length : 0));
  let at = 0;
  at = value.writeUInt8(topicFormatVersion, at);
  at = value.writeUInt32BE(topic.id, at);
  at = value.writeUInt8(topic.deleted ? 1 : 0, at);
  at = value.writeUInt16BE(name.length, at);
  at += name.copy(value, at);
  at = value.writeUInt32BE(topic.partitions, at);
  writeUint64BE(value, at, topic.retentionMs);
  writeUint64BE(value, at + 8, topic.retentionBytes);
  at = value.writeUInt32BE(topic.maxRecordBytes, at + 16);
  writeUint64BE(value, at, topic.createdAtMs);
  at += 8;
  if (requestId.length > 0) {
    at = value.writeUInt16BE(requestId.length, at);
    requestId.copy(value, at);
  }
  return value;
}

function decodeTopic(value: Buffer): TopicRecord {
  if (value[0] !== topicFormatVersion) throw new Error(`topic record format ${value[0]} is not supported`);
  const nameLength = value.readUInt16BE(6);
  let at = 8 + nameLength;
  const topic: TopicRecord = {
    id: value.readUInt32BE(1),
    deleted: value[5] === 1,
    name: value.toString("utf8", 8, at),
    partitions: value.readUInt32BE(at),
    retentionMs: readUint64BE(value, at + 4),
    retentionBytes: readUint64BE(value, at + 12),
    maxRecordBytes: value.readUInt32BE(at + 20),
    createdAtMs: readUint64BE(value, at + 24),
    createRequestId: "",
  };
  at += 32;
  if (at < value.length) {
    const idLength = value.readUInt16BE(at);
    topic.createRequestId = value.toString("utf8", at + 2, at + 2 + idLength);
    at += 2 + idLength;
  }
  if (at !== value.length) throw new StorageCorruption(`topic record of ${value.length} bytes, expected ${at}`);
  return topic;
}

function encodeIndexEntry(entry: BatchIndexEntry): Buffer {
  const value = Buffer.allocUnsafe(indexValueBytes);
  writeUint64BE(value, 0, entry.lastOffset);
  writeUint64BE(value, 8, entry.maxTimestampMs);
  value.writeUInt32BE(entry.bytes, 16);
  writeUint64BE(value, 20, entry.entryIndex);
  value.writeUInt32BE(entry.entryOffset, 28);
  return value;
}

/** The raft entry an encoded index entry points at (snapshot export reads it without decoding the rest). */
export function entryIndexOfBatch(key: Buffer, value: Buffer): number | undefined {
  if (key[0] !== PREFIX_BATCH_INDEX) return undefined;
  if (value.length !== indexValueBytes) throw new StorageCorruption(`malformed batch index key ${key.toString("hex")}`);
  return readUint64BE(value, 20);
}

const producerFormatVersion = 1;
const PRODUCER_META_KEY = Buffer.from([PREFIX_PRODUCER_META]);
const producerKeyBytes = 1 + 8;
const producerValueBytes = 1 + 4 + 8;
const producerPartitionKeyBytes = 1 + 8 + 4 + 4;
/** Sequence states are written in version 2 (with fingerprints); version 1 ones are still read. */
const sequenceStateFormatVersion = 2;
const sequenceStateV1FormatVersion = 1;
const cachedBatchV1Bytes = 4 + 4 + 8;
const cachedBatchBytes = cachedBatchV1Bytes + 1 + 4;

function producerKey(producerId: number): Buffer {
  const key = Buffer.allocUnsafe(producerKeyBytes);
  key[0] = PREFIX_PRODUCER;
  writeUint64BE(key, 1, producerId);
  return key;
}

function producerPartitionKey(producerId: number, topicId: number, partition: number): Buffer {
  const key = Buffer.allocUnsafe(producerPartitionKeyBytes);
  key[0] = PREFIX_PRODUCER_PARTITION;
  writeUint64BE(key, 1, producerId);
  key.writeUInt32BE(topicId, 9);
  key.writeUInt32BE(partition, 13);
  return key;
}

function encodeProducerMeta(nextProducerId: number): Buffer {
  const value = Buffer.allocUnsafe(9);
  value[0] = producerFormatVersion;
  writeUint64BE(value, 1, nextProducerId);
  return value;
}

function encodeProducer(producer: ProducerRecord): Buffer {
  const value = Buffer.allocUnsafe(producerValueBytes);
  value[0] = producerFormatVersion;
  value.writeUInt32BE(producer.epoch, 1);
  writeUint64BE(value, 5, producer.lastActiveMs);
  return value;
}

function encodeProducerPartition(state: ProducerPartitionRecord): Buffer {
  const value = Buffer.allocUnsafe(1 + 4 + 1 + state.batches.length * cachedBatchBytes);
  value[0] = sequenceStateFormatVersion;
  value.writeUInt32BE(state.epoch, 1);
  value[5] = state.batches.length;
  state.batches.forEach((b, i) => {
    const at = 6 + i * cachedBatchBytes;
    value.writeUInt32BE(b.baseSequence, at);
    value.writeUInt32BE(b.recordCount, at + 4);
    writeUint64BE(value, at + 8, b.baseOffset);
    value[at + 16] = b.fingerprint === undefined ? 0 : 1;
    value.writeUInt32BE(b.fingerprint ?? 0, at + 17);
  });
  return value;
}

function checkVersion(value: Buffer, what: string): void {
  if (value.length === 0 || value[0] !== producerFormatVersion) {
    throw new Error(`${what} format ${value[0]} is not supported (this build reads ${producerFormatVersion})`);
  }
}

function decodeProducer(key: Buffer, value: Buffer): ProducerRecord {
  checkVersion(value, "producer record");
  if (key.length !== producerKeyBytes || value.length !== producerValueBytes) {
    throw new StorageCorruption(`malformed producer key ${key.toString("hex")}`);
  }
  return { id: readUint64BE(key, 1), epoch: value.readUInt32BE(1), lastActiveMs: readUint64BE(value, 5) };
}

function decodeProducerPartition(key: Buffer, value: Buffer): ProducerPartitionRecord {
  const version = value.length === 0 ? 0 : value[0];
  if (version !== sequenceStateFormatVersion && version !== sequenceStateV1FormatVersion) {
    throw new Error(`producer sequence state format ${version} is not supported (this build reads 1 and ${sequenceStateFormatVersion})`);
  }
  const batchBytes = version === sequenceStateV1FormatVersion ? cachedBatchV1Bytes : cachedBatchBytes;
  const count = value.length >= 6 ? value[5] : 0;
  if (key.length !== producerPartitionKeyBytes || value.length !== 6 + count * batchBytes) {
    throw new StorageCorruption(`malformed producer sequence state key ${key.toString("hex")}`);
  }
  const batches = Array.from({ length: count }, (_, i): CachedBatch => {
    const at = 6 + i * batchBytes;
    const batch: CachedBatch = { baseSequence: value.readUInt32BE(at), recordCount: value.readUInt32BE(at + 4), baseOffset: readUint64BE(value, at + 8) };
    if (version === sequenceStateFormatVersion) {
      const known = value[at + 16];
      if (known > 1) throw new StorageCorruption(`malformed fingerprint flag ${known} in producer sequence state key ${key.toString("hex")}`);
      if (known === 1) batch.fingerprint = value.readUInt32BE(at + 17);
    }
    return batch;
  });
  return {
    producerId: readUint64BE(key, 1),
    topicId: key.readUInt32BE(9),
    partition: key.readUInt32BE(13),
    epoch: value.readUInt32BE(1),
    batches,
  };
}

/** What addMutations needs of a write batch; a classic-level chained batch (`db.batch()`) is one. */
export interface BrokerWriteBatch {
  put(key: Buffer, value: Buffer): unknown;
  del(key: Buffer): unknown;
}

/**
 * Adds the writes for `mutations` to `batch`; the caller adds the applied index and writes it. `refs`
 * learns which raft entries now hold stored batches and which hold no more.
 */
export function addMutations(batch: BrokerWriteBatch, mutations: readonly BrokerMutation[], refs: EntryRefs): void {
  for (const m of mutations) {
    switch (m.kind) {
      case "putTopic":
        batch.put(topicKey(m.topic.id), encodeTopic(m.topic));
        break;
      case "removeTopic":
        batch.del(topicKey(m.topicId));
        break;
      case "putNextTopicId":
        batch.put(META_KEY, encodeMeta(m.nextTopicId));
        break;
      case "putBatch":
        batch.put(batchKey(m.topicId, m.partition, m.entry.baseOffset), encodeIndexEntry(m.entry));
        refs.hold(m.entry.entryIndex);
        break;
      case "deleteBatches":
        for (const removed of m.batches) {
          batch.del(batchKey(m.topicId, m.partition, removed.baseOffset));
          refs.release(batch, removed.entryIndex);
        }
        break;
      case "putNextProducerId":
        batch.put(PRODUCER_META_KEY, encodeProducerMeta(m.nextProducerId));
        break;
      case "putProducer":
        batch.put(producerKey(m.producer.id), encodeProducer(m.producer));
        break;
      case "putProducerPartition":
        batch.put(producerPartitionKey(m.state.producerId, m.state.topicId, m.state.partition), encodeProducerPartition(m.state));
        break;
      case "removeProducer":
        for (const p of m.partitions) batch.del(producerPartitionKey(m.producerId, p.topicId, p.partition));
        batch.del(producerKey(m.producerId));
        break;
      case "putMember":
        batch.put(memberKey(m.member.id), encodeMember(m.member));
        break;
      case "putGroup":
      case "removeGroup":
      case "putOffset":
        addGroupMutation(batch, m);
        break;
      case "putShareGroup":
      case "deleteShareGroup":
      case "putSharePartition":
      case "deleteSharePartition":
      case "deleteShareRecords":
        addShareMutation(batch, m);
        break;
      case "putAcl":
      case "removeAcl":
      case "putToken":
      case "removeToken":
        addSecurityMutation(batch, m);
        break;
    }
  }
}

/** Reads what BrokerState.restore needs: topics and batch index entries, not the record data. */
export async function loadBrokerState(db: Db): Promise<LoadedBrokerState> {
  const nextTopicId = decodeMeta(await db.get(META_KEY, iteratorOptions));
  const topics: TopicRecord[] = [];
  for await (const value of db.values({ ...iteratorOptions, gte: Buffer.from([PREFIX_TOPIC]), lt: Buffer.from([PREFIX_TOPIC + 1]) })) {
    topics.push(decodeTopic(value));
  }
  const partitions: LoadedPartition[] = [];
  let current: LoadedPartition | undefined;
  const range = { gte: Buffer.from([PREFIX_BATCH_INDEX]), lt: Buffer.from([PREFIX_BATCH_INDEX + 1]) };
  for await (const [key, value] of db.iterator({ ...iteratorOptions, ...range })) {
    if (key.length !== batchKeyBytes || value.length !== indexValueBytes) {
      throw new StorageCorruption(`malformed batch index key ${key.toString("hex")}`);
    }
    const topicId = key.readUInt32BE(1);
    const partition = key.readUInt32BE(5);
    if (!current || current.topicId !== topicId || current.partition !== partition) {
      current = { topicId, partition, entries: [] };
      partitions.push(current);
    }
    current.entries.push({
      baseOffset: readUint64BE(key, 9),
      lastOffset: readUint64BE(value, 0),
      maxTimestampMs: readUint64BE(value, 8),
      bytes: value.readUInt32BE(16),
      entryIndex: readUint64BE(value, 20),
      entryOffset: value.readUInt32BE(28),
    });
  }
  const loaded: LoadedBrokerState = { nextTopicId, topics, partitions };
  const producers = await loadProducers(db);
  if (producers) loaded.producers = producers;
  const groups = await loadGroups(db);
  if (groups) loaded.groups = groups;
  const members = await loadMembers(db);
  if (members) loaded.members = members;
  const shares = await loadShares(db);
  if (shares) loaded.shares = shares;
  const security = await loadSecurity(db);
  if (security) loaded.security = security;
  return loaded;
}

function prefixOnly(prefix: number): { gte: Buffer; lt: Buffer } {
  return { gte: Buffer.from([prefix]), lt: Buffer.from([prefix + 1]) };
}

/** The idempotent producers' state; undefined when no producer id was ever issued. */
async function loadProducers(db: Db): Promise<LoadedProducers | undefined> {
  const meta = await db.get(PRODUCER_META_KEY, iteratorOptions);
  if (meta === undefined) return undefined;
  checkVersion(meta, "producer meta");
  if (meta.length !== 9) throw new StorageCorruption(`malformed producer meta of ${meta.length} bytes`);
  const loaded: LoadedProducers = { nextProducerId: readUint64BE(meta, 1), producers: [], partitions: [] };
  for await (const [key, value] of db.iterator({ ...iteratorOptions, ...prefixOnly(PREFIX_PRODUCER) })) {
    loaded.producers.push(decodeProducer(key, value));
  }
  for await (const [key, value] of db.iterator({ ...iteratorOptions, ...prefixOnly(PREFIX_PRODUCER_PARTITION) })) {
    loaded.partitions.push(decodeProducerPartition(key, value));
  }
  return loaded;
}

/**
 * Reads located batches (BrokerState.locate) from the raft entries that hold them. Call in the turn that
 * located them: getMany reads from a snapshot LevelDB takes when it is called, so a batch removed since
 * cannot vanish under the read. A located batch whose entry is missing is lost data (StorageCorruption).
 */
export async function readBatches(db: Db, batches: readonly BatchIndexEntry[]): Promise<StoredBatch[]> {
  if (batches.length === 0) return [];
  const values = await db.getMany(batches.map((b) => entryKey(b.entryIndex)), iteratorOptions);
  return batches.map((b, i) => {
    const value = values[i];
    const start = entryDataStart + b.entryOffset;
    if (value === undefined || value.length < start + b.bytes) {
      throw new StorageCorruption(`raft entry ${b.entryIndex}, which holds offsets ${b.baseOffset}..${b.lastOffset}, is ${value === undefined ? "missing" : "too short"}`);
    }
    return { baseOffset: b.baseOffset, blob: value.subarray(start, start + b.bytes) };
  });
}
