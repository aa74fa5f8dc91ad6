// The replicated state machine: topics, partitions, offsets, idempotent producers. `apply` is
// deterministic: the same commands in the same order give the same results and mutations on every node,
// with or without restarts in between. It reads no clock (time comes in the command), validates
// everything before changing anything, and answers an invalid command with an error result and no
// mutations.
import {
  Command,
  CommandKind,
  CreateTopicCommand,
  DeleteTopicCommand,
  InitProducerCommand,
  ProduceCommand,
  PutMemberCommand,
  TickCommand,
  decodeCommand,
} from "./commands";
import { BrokerError, unknownTopic } from "./errors";
import { isGroupCommandKind, type GroupCommand } from "./group-commands";
import type { LoadedGroups } from "./group-records";
import { MemberTable, type MemberRecord } from "./member-records";
import { GroupTable, type GroupTopicView } from "./group-table";
import type { BrokerMutation, ProducerPartitionRecord, ProducerRecord, TopicRecord } from "./mutations";
import { BatchIndexEntry, PartitionLog } from "./partition-log";
import { batchFingerprint } from "./batch-fingerprint";
import { LoadedProducers, ProducerTable, defaultProducerExpiryMs } from "./producer-table";
import { RecordBatchHeader, readRecordBatchHeader } from "./record-batch";
import { isSecurityCommandKind, type SecurityCommand } from "./security-commands";
import { type LoadedSecurity, SecurityTable } from "./security-table";
import type {
  AppendedBatch,
  CommandResult,
  FetchLocation,
  PartitionInfo,
  StartOffsetMove,
  TopicDescription,
  TopicInfo,
} from "./results";
import { drainBatches, expireBatches, maxBatchDeletesPerTick } from "./retention";
import { ShareCommandKind, isShareCommandKind, type ShareCommand, type ShareDeadLetterCommand } from "./share-commands";
import type { LoadedShares } from "./share-records";
import { ShareTable, type ShareTopicView } from "./share-table";
import {
  emptyBatch,
  recordTooLarge,
  resolveMaxRecordBytes,
  validateNonNegative,
  validateRequestId,
  validatePartition,
  validatePartitionCount,
  validateTopicName,
} from "./validation";

/** The committed entry being applied: a batch it carries is stored as a place in it, not copied. */
interface CarryingEntry {
  index: number;
  data: Uint8Array;
}

/** Where `blob`, a view decodeCommand made into the command bytes `data`, starts in them. */
function offsetIn(data: Uint8Array, blob: Uint8Array): number {
  const at = blob.byteOffset - data.byteOffset;
  if (blob.buffer !== data.buffer || at < 0 || at + blob.length > data.length) {
    throw new Error("a decoded batch is not a view into its command's bytes");
  }
  return at;
}

export interface LoadedPartition {
  topicId: number;
  partition: number;
  /** In offset order. */
  entries: BatchIndexEntry[];
}

/** Everything restore needs, as storage/broker-store.ts loads it. */
export interface LoadedBrokerState {
  nextTopicId: number;
  topics: TopicRecord[];
  partitions: LoadedPartition[];
  /** Absent when no producer id was ever issued. */
  producers?: LoadedProducers;
  /** Absent when no consumer group ever existed. */
  groups?: LoadedGroups;
  /** Absent when no member was ever recorded. */
  members?: MemberRecord[];
  /** Absent when no share group ever existed. */
  shares?: LoadedShares;
  /** Absent when no ACL or token was ever stored. */
  security?: LoadedSecurity;
}

export interface ApplyOutcome {
  result: CommandResult;
  /** Empty when the result is an error. */
  mutations: BrokerMutation[];
}

interface TopicState {
  record: TopicRecord;
  logs: PartitionLog[];
}

const firstTopicId = 1;

function infoOf(record: TopicRecord): TopicInfo {
  const { deleted: _deleted, ...info } = record;
  return info;
}

function byId(a: TopicState, b: TopicState): number {
  return a.record.id - b.record.id;
}

export class BrokerState {
  private readonly live = new Map<string, TopicState>();
  /** Deleted topics whose batches Ticks are still removing, by id. */
  private readonly deleted = new Map<number, TopicState>();
  private nextTopicId = firstTopicId;
  private producers = new ProducerTable();
  private consumerGroups = new GroupTable();
  private memberTable = new MemberTable();
  private shareGroups = new ShareTable();
  private securityTable = new SecurityTable();
  private lastIndex: number;

  constructor(appliedIndex = 0) {
    this.lastIndex = appliedIndex;
  }

  /** Rebuilds the state from storage; `appliedIndex` is the raft applied index stored with it. */
  static restore(loaded: LoadedBrokerState, appliedIndex: number): BrokerState {
    const state = new BrokerState(appliedIndex);
    state.nextTopicId = loaded.nextTopicId;
    state.producers = ProducerTable.restore(loaded.producers);
    state.consumerGroups = GroupTable.restore(loaded.groups);
    state.memberTable = MemberTable.restore(loaded.members);
    state.shareGroups = ShareTable.restore(loaded.shares);
    state.securityTable = SecurityTable.restore(loaded.security);
    const byTopicId = new Map<number, TopicState>();
    for (const record of [...loaded.topics].sort((a, b) => a.id - b.id)) {
      if (record.id >= loaded.nextTopicId) throw new Error(`stored topic id ${record.id} >= next id ${loaded.nextTopicId}`);
      const topic: TopicState = { record, logs: Array.from({ length: record.partitions }, () => new PartitionLog()) };
      byTopicId.set(record.id, topic);
      if (record.deleted) state.deleted.set(record.id, topic);
      else state.live.set(record.name, topic);
    }
    for (const stored of loaded.partitions) {
      const topic = byTopicId.get(stored.topicId);
      if (!topic || stored.partition >= topic.logs.length) {
        throw new Error(`stored batches for unknown topic ${stored.topicId} partition ${stored.partition}`);
      }
      topic.logs[stored.partition] = PartitionLog.fromEntries(stored.entries);
    }
    return state;
  }

  /** ACLs and token hashes: read by every call's access check; changed only by apply. */
  get security(): SecurityTable {
    return this.securityTable;
  }

  /** The raft index of the last command applied (or restored). */
  get appliedIndex(): number {
    return this.lastIndex;
  }

  /**
   * Applies the committed entry at `index`. An empty entry is a no-op. Throws UnsupportedCommandError
   * for bytes this build cannot decode: the node must stop rather than diverge from the others.
   */
  apply(index: number, command: Uint8Array): ApplyOutcome {
    if (index <= this.lastIndex) throw new Error(`apply of index ${index} after ${this.lastIndex}`);
    this.lastIndex = index;
    if (command.length === 0) return { result: { kind: "noop" }, mutations: [] };
    return this.applyCommand(decodeCommand(command), { index, data: command });
  }

  private applyCommand(command: Command, entry: CarryingEntry): ApplyOutcome {
    try {
      if (isGroupCommandKind(command.kind)) {
        const outcome = this.consumerGroups.apply(command as GroupCommand, this.topicView);
        return { result: outcome.result, mutations: outcome.mutations };
      }
      if (isShareCommandKind(command.kind)) return this.applyShare(command as ShareCommand, entry);
      if (isSecurityCommandKind(command.kind)) return this.securityTable.apply(command as SecurityCommand);
      switch (command.kind) {
        case CommandKind.CreateTopic:
          return this.createTopic(command);
        case CommandKind.DeleteTopic:
          return this.deleteTopic(command);
        case CommandKind.Produce:
          return this.produce(command, entry);
        case CommandKind.Tick:
          return this.tick(command);
        case CommandKind.InitProducer:
          return this.initProducer(command);
        case CommandKind.PutMember:
          return this.putMember(command);
        default:
          throw new Error(`no handler for command kind ${command.kind}`);
      }
    } catch (err) {
      if (err instanceof BrokerError) return { result: { kind: "error", error: err }, mutations: [] };
      throw err;
    }
  }

  private applyShare(command: ShareCommand, entry: CarryingEntry): ApplyOutcome {
    if (command.kind === ShareCommandKind.ShareDeadLetter) return this.deadLetter(command, entry);
    const outcome = this.shareGroups.apply(command, this.topicView);
    return { result: outcome.result, mutations: outcome.mutations };
  }

  /**
   * Appends the dead letters to the group's dead-letter topic and retires their records: one step, so a
   * record is never both pending and dead-lettered. Every check (the records, the topic, the batch)
   * comes before any change.
   */
  private deadLetter(command: ShareDeadLetterCommand, carrier: CarryingEntry): ApplyOutcome {
    const group = this.shareGroups.checkDeadLetter(command);
    const topic = this.liveTopic(group.config.deadLetterTopic);
    const header = readRecordBatchHeader(command.blob);
    if (header.recordCount !== command.entries.length) {
      throw emptyBatch(`a dead-letter batch of ${header.recordCount} records for ${command.entries.length} entries`);
    }
    if (header.largestRecordBytes > topic.record.maxRecordBytes) {
      throw recordTooLarge(topic.record.name, header.largestRecordBytes, topic.record.maxRecordBytes);
    }
    const mutations: BrokerMutation[] = this.shareGroups.deadLetter(command);
    const log = topic.logs[0];
    const entry: BatchIndexEntry = {
      baseOffset: log.highWatermark,
      lastOffset: log.highWatermark + header.recordCount - 1,
      maxTimestampMs: header.maxTimestampMs,
      bytes: command.blob.length,
      entryIndex: carrier.index,
      entryOffset: offsetIn(carrier.data, command.blob),
    };
    log.append(entry);
    mutations.push({ kind: "putBatch", topicId: topic.record.id, partition: 0, entry });
    return {
      result: { kind: "shareDeadLettered", groupId: command.groupId, deadLetterTopic: topic.record.name, baseOffset: entry.baseOffset, count: header.recordCount },
      mutations,
    };
  }

  // ---- validation the server runs before proposing (apply runs it again) ----

  /** Throws the BrokerError that applying this CreateTopic would answer with, if any. */
  checkCreateTopic(command: CreateTopicCommand): void {
    validateTopicName(command.name);
    validatePartitionCount(command.partitions);
    validateNonNegative("retention_ms", command.retentionMs);
    validateNonNegative("retention_bytes", command.retentionBytes);
    resolveMaxRecordBytes(command.maxRecordBytes);
    validateRequestId(command.requestId ?? "");
    if (this.live.has(command.name) && !this.createdBy(command)) {
      throw new BrokerError("ALREADY_EXISTS", "ERROR_REASON_TOPIC_EXISTS", `topic "${command.name}" already exists`);
    }
  }

  /**
   * The live topic this very CreateTopic made earlier: same name, same request id, same configuration.
   * A retry of a create whose answer was lost is answered with it, as if it had just been created.
   */
  createdBy(command: CreateTopicCommand): TopicInfo | undefined {
    const topic = this.live.get(command.name)?.record;
    if (!topic || !command.requestId || topic.createRequestId !== command.requestId) return undefined;
    const same =
      topic.partitions === command.partitions &&
      topic.retentionMs === command.retentionMs &&
      topic.retentionBytes === command.retentionBytes &&
      topic.maxRecordBytes === resolveMaxRecordBytes(command.maxRecordBytes);
    return same ? infoOf(topic) : undefined;
  }

  /** Throws the BrokerError that applying this Produce would answer with; returns the batch headers. */
  checkProduce(command: ProduceCommand): RecordBatchHeader[] {
    if (command.batches.length === 0) throw emptyBatch("a produce request needs at least one batch");
    return command.batches.map((batch) => {
      const topic = this.liveTopic(batch.topic);
      validatePartition(batch.topic, batch.partition, topic.record.partitions);
      const header = readRecordBatchHeader(batch.blob);
      if (header.largestRecordBytes > topic.record.maxRecordBytes) {
        throw recordTooLarge(batch.topic, header.largestRecordBytes, topic.record.maxRecordBytes);
      }
      return header;
    });
  }

  // ---- commands ----

  private createTopic(command: CreateTopicCommand): ApplyOutcome {
    this.checkCreateTopic(command);
    const existing = this.createdBy(command);
    if (existing) return { result: { kind: "topicCreated", topic: existing }, mutations: [] };
    const record: TopicRecord = {
      id: this.nextTopicId++,
      name: command.name,
      partitions: command.partitions,
      retentionMs: command.retentionMs,
      retentionBytes: command.retentionBytes,
      maxRecordBytes: resolveMaxRecordBytes(command.maxRecordBytes),
      createdAtMs: command.nowMs,
      deleted: false,
      createRequestId: command.requestId ?? "",
    };
    this.live.set(record.name, { record, logs: Array.from({ length: record.partitions }, () => new PartitionLog()) });
    return {
      result: { kind: "topicCreated", topic: infoOf(record) },
      mutations: [
        { kind: "putTopic", topic: record },
        { kind: "putNextTopicId", nextTopicId: this.nextTopicId },
      ],
    };
  }

  private deleteTopic(command: DeleteTopicCommand): ApplyOutcome {
    const topic = this.liveTopic(command.name);
    this.live.delete(command.name);
    const record: TopicRecord = { ...topic.record, deleted: true };
    const hasData = topic.logs.some((log) => log.batchCount > 0);
    if (hasData) this.deleted.set(record.id, { record, logs: topic.logs });
    return {
      result: { kind: "topicDeleted", topic: infoOf(record) },
      mutations: [
        hasData ? { kind: "putTopic", topic: record } : { kind: "removeTopic", topicId: record.id },
        ...this.consumerGroups.topicDeleted(command.name, this.topicView),
      ],
    };
  }

  /**
   * Appends every batch, or none: idempotent batches are decided first (producer-table.ts), so a refused
   * one refuses the command before anything changes, and a duplicate is answered with its original offset.
   */
  private produce(command: ProduceCommand, carrier: CarryingEntry): ApplyOutcome {
    const headers = this.checkProduce(command);
    const topics = command.batches.map((batch) => this.liveTopic(batch.topic));
    const byId = new Map(topics.map((topic) => [topic.record.id, topic]));
    const fingerprints = command.batches.map((batch) => (batch.producer ? batchFingerprint(batch.blob) : 0));
    const decisions = this.producers.decide(
      command.batches.map((batch, i) => ({
        stamp: batch.producer,
        topic: batch.topic,
        topicId: topics[i].record.id,
        partition: batch.partition,
        recordCount: headers[i].recordCount,
        fingerprint: fingerprints[i],
      })),
      (topicId, partition) => (byId.get(topicId) as TopicState).logs[partition].highWatermark,
    );
    const mutations: BrokerMutation[] = [];
    const active = new Set<number>();
    const batches: AppendedBatch[] = command.batches.map((batch, i) => {
      const topic = topics[i];
      const recordCount = headers[i].recordCount;
      const decision = decisions[i];
      if (decision.kind === "duplicate") {
        return { topic: batch.topic, partition: batch.partition, baseOffset: decision.baseOffset, recordCount, duplicate: true };
      }
      const log = topic.logs[batch.partition];
      const baseOffset = log.highWatermark;
      const entry: BatchIndexEntry = {
        baseOffset,
        lastOffset: baseOffset + headers[i].recordCount - 1,
        maxTimestampMs: headers[i].maxTimestampMs,
        bytes: batch.blob.length,
        entryIndex: carrier.index,
        entryOffset: offsetIn(carrier.data, batch.blob),
      };
      log.append(entry);
      mutations.push({ kind: "putBatch", topicId: topic.record.id, partition: batch.partition, entry });
      if (batch.producer) {
        const cached = { baseSequence: batch.producer.baseSequence, recordCount, baseOffset, fingerprint: fingerprints[i] };
        mutations.push(this.producers.recordAppend(batch.producer, topic.record.id, batch.partition, cached));
        active.add(batch.producer.producerId);
      }
      return { topic: batch.topic, partition: batch.partition, baseOffset, recordCount };
    });
    mutations.push(...this.producers.touch(active, command.nowMs));
    return { result: { kind: "produced", batches }, mutations };
  }

  private putMember(command: PutMemberCommand): ApplyOutcome {
    const member = this.memberTable.put(command.member);
    return { result: { kind: "memberRecorded", member }, mutations: [{ kind: "putMember", member }] };
  }

  /** What the log recorded of member `id`, if anything. */
  member(id: number): MemberRecord | undefined {
    return this.memberTable.get(id);
  }

  /** Every member record, by id. */
  members(): MemberRecord[] {
    return this.memberTable.all();
  }

  /** Changes whenever a member record is written (this state object only). */
  get membersVersion(): number {
    return this.memberTable.version;
  }

  private initProducer(command: InitProducerCommand): ApplyOutcome {
    const { producer, mutations } = this.producers.init(command.producerId, command.nowMs);
    return { result: { kind: "producerInitialized", producerId: producer.id, epoch: producer.epoch }, mutations };
  }

  /**
   * Retention for live topics, then removal of deleted topics' data, within one bounded budget; then
   * producer expiry, with its own budget.
   */
  private tick(command: TickCommand): ApplyOutcome {
    const { nowMs } = command;
    const mutations: BrokerMutation[] = [];
    const startOffsetMoves: StartOffsetMove[] = [];
    let budget = maxBatchDeletesPerTick;
    for (const topic of [...this.live.values()].sort(byId)) {
      topic.logs.forEach((log, partition) => {
        const removed = expireBatches(log, topic.record, nowMs, budget);
        if (removed.length === 0) return;
        budget -= removed.length;
        mutations.push({ kind: "deleteBatches", topicId: topic.record.id, partition, batches: removed });
        startOffsetMoves.push({ topic: topic.record.name, partition, startOffset: log.startOffset });
      });
    }
    for (const topic of [...this.deleted.values()].sort(byId)) {
      topic.logs.forEach((log, partition) => {
        const removed = drainBatches(log, budget);
        if (removed.length === 0) return;
        budget -= removed.length;
        mutations.push({ kind: "deleteBatches", topicId: topic.record.id, partition, batches: removed });
      });
      if (topic.logs.every((log) => log.batchCount === 0)) {
        this.deleted.delete(topic.record.id);
        mutations.push({ kind: "removeTopic", topicId: topic.record.id });
      }
    }
    mutations.push(...this.producers.expire(nowMs, command.producerExpiryMs ?? defaultProducerExpiryMs));
    const deletedBatches = maxBatchDeletesPerTick - budget;
    return { result: { kind: "ticked", deletedBatches, startOffsetMoves }, mutations };
  }

  // ---- queries ----

  /** The consumer groups (read only: change them through commands). */
  get groups(): GroupTable {
    return this.consumerGroups;
  }

  /** The share groups (read only: change them through commands). */
  get shares(): ShareTable {
    return this.shareGroups;
  }

  /** The topics as the consumer groups and share groups see them. */
  readonly topicView: GroupTopicView & ShareTopicView = {
    liveTopic: (name) => {
      const topic = this.live.get(name);
      return topic ? { id: topic.record.id, partitions: topic.record.partitions } : undefined;
    },
    offsetRange: (name, partition) => {
      const log = this.liveTopic(name).logs[partition];
      return { startOffset: log.startOffset, highWatermark: log.highWatermark };
    },
    topicName: (topicId) => {
      for (const topic of this.live.values()) if (topic.record.id === topicId) return topic.record.name;
      return undefined;
    },
  };

  /** An idempotent producer's id, epoch and last activity, if it is live. */
  producer(producerId: number): ProducerRecord | undefined {
    return this.producers.producer(producerId);
  }

  /** A producer's remembered batches on a partition in its current epoch, if it appended there. */
  producerPartition(producerId: number, topic: string, partition: number): ProducerPartitionRecord | undefined {
    return this.producers.partitionState(producerId, this.liveTopic(topic).record.id, partition);
  }

  private liveTopic(name: string): TopicState {
    const topic = this.live.get(name);
    if (topic) return topic;
    validateTopicName(name);
    throw unknownTopic(name);
  }

  /** The live topic of that name, or undefined. */
  topic(name: string): TopicInfo | undefined {
    const topic = this.live.get(name);
    return topic ? infoOf(topic.record) : undefined;
  }

  /** Like `topic`, but throws INVALID_ARGUMENT for a bad name and NOT_FOUND for an unknown one. */
  requireTopic(name: string): TopicInfo {
    return infoOf(this.liveTopic(name).record);
  }

  /** Every live topic, ordered by name. */
  listTopics(): TopicInfo[] {
    return [...this.live.values()].map((t) => infoOf(t.record)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  describeTopic(name: string): TopicDescription {
    const topic = this.liveTopic(name);
    return {
      topic: infoOf(topic.record),
      partitions: topic.logs.map((log, partition) => this.infoOfLog(topic, partition, log)),
    };
  }

  partitionInfo(name: string, partition: number): PartitionInfo {
    const topic = this.liveTopic(name);
    validatePartition(name, partition, topic.record.partitions);
    return this.infoOfLog(topic, partition, topic.logs[partition]);
  }

  /**
   * The first stored batch that may hold a record stamped at or after `timestampMs` (its largest
   * timestamp is), or undefined when none does. The caller reads the batch to find the record.
   */
  batchForTimestamp(name: string, partition: number, timestampMs: number): BatchIndexEntry | undefined {
    const topic = this.liveTopic(name);
    validatePartition(name, partition, topic.record.partitions);
    const log = topic.logs[partition];
    for (let i = 0; i < log.batchCount; i++) {
      const entry = log.entry(i);
      if (entry.maxTimestampMs >= timestampMs) return entry;
    }
    return undefined;
  }

  private infoOfLog(topic: TopicState, partition: number, log: PartitionLog): PartitionInfo {
    return {
      topicId: topic.record.id,
      partition,
      startOffset: log.startOffset,
      highWatermark: log.highWatermark,
      bytes: log.bytes,
      batchCount: log.batchCount,
    };
  }

  /**
   * Which stored batches hold `offset` and what follows it, up to `maxBytes` of batches (at least one)
   * and, if given, no further than the batch that holds `lastOffset`.
   * Throws NOT_FOUND, INVALID_ARGUMENT, or OUT_OF_RANGE with the valid range in the message.
   */
  locate(name: string, partition: number, offset: number, maxBytes: number, lastOffset = Number.MAX_SAFE_INTEGER): FetchLocation {
    const topic = this.liveTopic(name);
    validatePartition(name, partition, topic.record.partitions);
    const log = topic.logs[partition];
    const { startOffset, highWatermark } = log;
    if (!Number.isSafeInteger(offset) || offset < startOffset || offset > highWatermark) {
      throw new BrokerError(
        "OUT_OF_RANGE",
        "ERROR_REASON_OFFSET_OUT_OF_RANGE",
        `offset ${offset} is out of range [${startOffset}, ${highWatermark}] for "${name}" partition ${partition}`,
      );
    }
    const location: FetchLocation = { topicId: topic.record.id, partition, offset, startOffset, highWatermark, batches: [], bytes: 0 };
    if (offset === highWatermark) return location;
    for (let i = log.find(offset); i < log.batchCount; i++) {
      const entry = log.entry(i);
      if (location.batches.length > 0 && (location.bytes + entry.bytes > maxBytes || entry.baseOffset > lastOffset)) break;
      location.batches.push(entry);
      location.bytes += entry.bytes;
    }
    return location;
  }
}
