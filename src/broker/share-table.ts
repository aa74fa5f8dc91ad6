// The share groups (work queues): per partition a start offset and a window of records handed out at
// least once, each with its delivery count, owner, lock and backoff. Changed only by apply; every time
// judgement (has a lock run out, is a backoff over) is made against the command's `nowMs`.
//
// A lock that ran out is not written anywhere when it runs out: the record simply counts as available
// from then on (after its backoff), for every node alike, because every node judges it against the same
// command times. Records at the delivery limit are not handed out again; the leader moves them to the
// dead-letter topic with a ShareDeadLetter command, which retires them in the same step.
import { BrokerError, invalidField, unknownTopic } from "./errors";
import {
  ShareAckType,
  ShareCommandKind,
  type ShareAck,
  type ShareAckCommand,
  type ShareAcquireCommand,
  type ShareCommand,
  type ShareCreateCommand,
  type ShareDeadLetterCommand,
  type ShareDeleteCommand,
} from "./share-commands";
import type { LoadedShares, ShareConfig, ShareGroupRecord, ShareMutation, SharePartitionRecord, ShareRecordState, ShareRun } from "./share-records";
import {
  backoffMs,
  lockExpired,
  maxRecordsPerShareCall,
  maxShareGroups,
  notAcquired,
  notOwner,
  resolveShareConfig,
  shareGroupInUse,
  unknownShareGroup,
  validateConsumerId,
} from "./share-validation";
import { validateGroupId } from "./group-validation";
import { validatePartition } from "./validation";

/** What the share groups need to know of the topics. */
export interface ShareTopicView {
  liveTopic(name: string): { id: number; partitions: number } | undefined;
  offsetRange(name: string, partition: number): { startOffset: number; highWatermark: number };
}

export interface AcquiredRecord {
  partition: number;
  offset: number;
  deliveryCount: number;
  lockUntilMs: number;
}

export type ShareResult =
  | { kind: "shareGroupCreated"; groupId: string; created: boolean; group: ShareGroupRecord }
  | { kind: "shareAcquired"; groupId: string; consumerId: string; records: AcquiredRecord[] }
  /** One entry per ack, in command order: undefined when it took effect. */
  | { kind: "shareAcked"; groupId: string; outcomes: (BrokerError | undefined)[] }
  /** The dead letters' place in the dead-letter topic (partition 0). */
  | { kind: "shareDeadLettered"; groupId: string; deadLetterTopic: string; baseOffset: number; count: number }
  /** `abandonedLocks`: records held under an unexpired lock when a forced delete removed the group. */
  | { kind: "shareGroupDeleted"; groupId: string; topic: string; abandonedLocks: number };

export interface ShareOutcome {
  result: ShareResult;
  mutations: ShareMutation[];
}

export type EffectiveState = "acquired" | "available" | "deadLetterDue" | "done";

/** A partition's counts as of a time (DescribeShareGroup). */
export interface SharePartitionCounts {
  partition: number;
  startOffset: number;
  windowEnd: number;
  acquired: number;
  available: number;
  deadLetterPending: number;
  done: number;
}

class SharePartition {
  readonly records = new Map<number, ShareRecordState>();
  /**
   * No record of the window becomes deliverable or due for the dead-letter topic before this time: a
   * lower bound kept as records change, made exact by a scan only once it has passed. So acquisitions
   * and the leader's checks skip the window while every record in it is locked. Derived, not stored.
   */
  private dueFloorMs = 0;
  /** Changed by the command being applied: the partition is written (as a whole) when it ends. */
  private dirty = false;
  /** Offsets an earlier build stored one per key, removed by the partition's next write. */
  private legacyOffsets: number[] = [];

  constructor(
    readonly partition: number,
    public startOffset: number,
    public windowEnd: number,
  ) {}

  touch(): void {
    this.dirty = true;
  }

  /** Restores a record (in offset order); `legacy` if stored one per key by an earlier build. */
  load(r: ShareRecordState, legacy: boolean): void {
    this.records.set(r.offset, r);
    if (!legacy) return;
    this.legacyOffsets.push(r.offset);
    this.dirty = true;
  }

  /** A record changed: its due time lowers the floor if it is earlier. */
  noteDue(r: ShareRecordState, config: ShareConfig): void {
    this.dueFloorMs = Math.min(this.dueFloorMs, dueMs(r, config));
  }

  /** Something (the configuration) changed every due time: the next check scans. */
  forgetDue(): void {
    this.dueFloorMs = 0;
  }

  /** Could a record be deliverable or due for the dead-letter topic at `nowMs`? Scans only past the floor. */
  anyDue(config: ShareConfig, nowMs: number): boolean {
    if (nowMs < this.dueFloorMs) return false;
    let floor = Number.POSITIVE_INFINITY;
    for (const r of this.records.values()) floor = Math.min(floor, dueMs(r, config));
    this.dueFloorMs = floor;
    return nowMs >= floor;
  }

  /** Moves the start past every done record at its head. */
  advance(): void {
    for (;;) {
      const r = this.records.get(this.startOffset);
      if (!r || (r.state !== "accepted" && r.state !== "deadLettered")) break;
      this.retire(this.startOffset);
      this.startOffset++;
      this.dirty = true;
    }
  }

  /** Retention removed records below `logStart`: they can no longer be delivered or answered. */
  clampTo(logStart: number): void {
    if (logStart <= this.startOffset) return;
    for (let o = this.startOffset; o < Math.min(logStart, this.windowEnd); o++) if (this.records.has(o)) this.retire(o);
    this.startOffset = logStart;
    this.windowEnd = Math.max(this.windowEnd, logStart);
    this.dirty = true;
  }

  extend(): void {
    this.windowEnd++;
    this.dirty = true;
  }

  private retire(offset: number): void {
    this.records.delete(offset);
    this.dirty = true;
  }

  /** The writes for what the current command changed, and a fresh start for the next one. */
  flush(groupId: string, out: ShareMutation[]): void {
    if (this.legacyOffsets.length > 0) out.push({ kind: "deleteShareRecords", groupId, partition: this.partition, offsets: this.legacyOffsets });
    if (this.dirty) out.push({ kind: "putSharePartition", partition: this.record(groupId) });
    this.legacyOffsets = [];
    this.dirty = false;
  }

  /** The writes that remove this partition's stored state (`whole`: its key too, else it is overwritten). */
  drop(groupId: string, whole: boolean, out: ShareMutation[]): void {
    if (this.legacyOffsets.length > 0) out.push({ kind: "deleteShareRecords", groupId, partition: this.partition, offsets: this.legacyOffsets });
    if (whole) out.push({ kind: "deleteSharePartition", groupId, partition: this.partition });
  }

  record(groupId: string): SharePartitionRecord {
    return { groupId, partition: this.partition, startOffset: this.startOffset, windowEnd: this.windowEnd, runs: this.runs() };
  }

  /** The window as runs of alike records (the map iterates by offset: records enter at the window's end). */
  private runs(): ShareRun[] {
    const out: ShareRun[] = [];
    let run: ShareRun | undefined;
    for (const r of this.records.values()) {
      if (
        run &&
        r.offset === run.first + run.count &&
        r.state === run.state &&
        r.deliveryCount === run.deliveryCount &&
        r.owner === run.owner &&
        r.lockUntilMs === run.lockUntilMs &&
        r.availableAtMs === run.availableAtMs
      ) {
        run.count++;
        continue;
      }
      run = { first: r.offset, count: 1, state: r.state, deliveryCount: r.deliveryCount, owner: r.owner, lockUntilMs: r.lockUntilMs, availableAtMs: r.availableAtMs };
      out.push(run);
    }
    return out;
  }
}

interface ShareGroupState {
  record: ShareGroupRecord;
  partitions: SharePartition[];
}

export class ShareTable {
  private readonly groups = new Map<string, ShareGroupState>();

  static restore(loaded: LoadedShares | undefined): ShareTable {
    const table = new ShareTable();
    for (const record of loaded?.groups ?? []) table.groups.set(record.groupId, { record, partitions: [] });
    for (const p of loaded?.partitions ?? []) {
      const g = table.groups.get(p.groupId);
      if (!g) throw new Error(`stored share partition for unknown share group "${p.groupId}"`);
      const sp = new SharePartition(p.partition, p.startOffset, p.windowEnd);
      g.partitions[p.partition] = sp;
      for (const run of p.runs) {
        for (let i = 0; i < run.count; i++) {
          sp.load({ offset: run.first + i, state: run.state, deliveryCount: run.deliveryCount, owner: run.owner, lockUntilMs: run.lockUntilMs, availableAtMs: run.availableAtMs }, false);
        }
      }
    }
    for (const { groupId, partition, record } of loaded?.records ?? []) {
      const sp = table.groups.get(groupId)?.partitions[partition];
      if (!sp) throw new Error(`stored share record for unknown share partition "${groupId}"/${partition}`);
      if (sp.records.size > 0 && sp.records.has(record.offset)) throw new Error(`share record "${groupId}"/${partition}/${record.offset} is stored twice`);
      sp.load(record, true);
    }
    return table;
  }

  /** Applies a share command; throws BrokerError (nothing changed) when it is refused. */
  apply(command: Exclude<ShareCommand, ShareDeadLetterCommand>, topics: ShareTopicView): ShareOutcome {
    validateGroupId(command.groupId);
    switch (command.kind) {
      case ShareCommandKind.ShareCreate:
        return this.create(command, topics);
      case ShareCommandKind.ShareAcquire:
        return this.acquire(command, topics);
      case ShareCommandKind.ShareAck:
        return this.ack(command);
      case ShareCommandKind.ShareDelete:
        return this.remove(command, topics);
    }
  }

  // ---- queries (results are the table's own records: do not change them) ----

  group(groupId: string): ShareGroupRecord | undefined {
    return this.groups.get(groupId)?.record;
  }

  /** Ordered by group id. */
  groupIds(): string[] {
    return [...this.groups.keys()].sort();
  }

  partitionCount(groupId: string): number {
    return this.groups.get(groupId)?.partitions.length ?? 0;
  }

  /** The group, if its topic is still the one it was created on; else UNKNOWN_SHARE_GROUP. */
  requireLive(groupId: string, topics: ShareTopicView): ShareGroupRecord {
    validateGroupId(groupId);
    const g = this.groups.get(groupId);
    if (!g || topics.liveTopic(g.record.topic)?.id !== g.record.topicId) throw unknownShareGroup(groupId);
    return g.record;
  }

  /** A record's state as of `nowMs`; "done" for anything below the start offset. */
  stateAt(groupId: string, partition: number, offset: number, nowMs: number): EffectiveState | "new" {
    const g = this.groups.get(groupId);
    const sp = g?.partitions[partition];
    if (!g || !sp) return "new";
    if (offset < sp.startOffset) return "done";
    const r = sp.records.get(offset);
    return r ? effectiveState(r, g.record, nowMs) : "new";
  }

  /** Would an acquisition at `nowMs` find a record to hand out? Never for a group whose topic was deleted. */
  hasDeliverable(groupId: string, nowMs: number, topics: ShareTopicView): boolean {
    const g = this.groups.get(groupId);
    if (!g || topics.liveTopic(g.record.topic)?.id !== g.record.topicId) return false;
    return g.partitions.some((sp) => {
      const { highWatermark } = topics.offsetRange(g.record.topic, sp.partition);
      if (sp.windowEnd < highWatermark && sp.windowEnd - sp.startOffset < g.record.config.maxInFlightPerPartition) return true;
      if (!sp.anyDue(g.record.config, nowMs)) return false;
      for (const r of sp.records.values()) if (deliverable(r, g.record, nowMs)) return true;
      return false;
    });
  }

  /** Records at the delivery limit whose last lock ran out or that were released: up to `max`, by partition and offset. */
  deadLettersDue(groupId: string, nowMs: number, max: number): { partition: number; offset: number; deliveryCount: number }[] {
    const g = this.groups.get(groupId);
    const out: { partition: number; offset: number; deliveryCount: number }[] = [];
    for (const sp of g?.partitions ?? []) {
      if (!sp.anyDue(g!.record.config, nowMs)) continue;
      // A window's records are inserted at its end and loaded in key order: the map iterates by offset.
      for (const r of sp.records.values()) {
        if (out.length >= max) return out;
        if (effectiveState(r, g!.record, nowMs) === "deadLetterDue") out.push({ partition: sp.partition, offset: r.offset, deliveryCount: r.deliveryCount });
      }
    }
    return out;
  }

  /** A record of the window (its delivery count, owner and lock), if tracked. */
  recordState(groupId: string, partition: number, offset: number): ShareRecordState | undefined {
    return this.groups.get(groupId)?.partitions[partition]?.records.get(offset);
  }

  counts(groupId: string, nowMs: number): SharePartitionCounts[] {
    const g = this.groups.get(groupId);
    return (g?.partitions ?? []).map((sp) => {
      const c: SharePartitionCounts = { partition: sp.partition, startOffset: sp.startOffset, windowEnd: sp.windowEnd, acquired: 0, available: 0, deadLetterPending: 0, done: 0 };
      for (const r of sp.records.values()) {
        const s = effectiveState(r, g!.record, nowMs);
        if (s === "acquired") c.acquired++;
        else if (s === "available") c.available++;
        else if (s === "deadLetterDue") c.deadLetterPending++;
        else c.done++;
      }
      return c;
    });
  }

  /**
   * Throws the error the first refused ack would get (the Ack rpc is all or nothing as far as it can
   * judge before proposing); also refuses two acks for one record.
   */
  checkAcks(groupId: string, consumerId: string, acks: readonly { partition: number; offset: number; deliveryCount: number }[], nowMs: number, topics: ShareTopicView): void {
    const g = this.requireLive(groupId, topics);
    validateConsumerId(consumerId, true);
    if (acks.length === 0 || acks.length > maxRecordsPerShareCall) throw invalidField(`acks must hold 1..${maxRecordsPerShareCall} entries, got ${acks.length}`);
    const seen = new Set<string>();
    for (const a of acks) {
      const key = `${a.partition}/${a.offset}`;
      if (seen.has(key)) throw invalidField(`two acks for record ${key}`);
      seen.add(key);
      const err = this.ackError(g.groupId, consumerId, a, nowMs);
      if (err) throw err;
    }
  }

  /** Why this ack would be refused at `nowMs`, or undefined (the group is known to exist). */
  ackError(groupId: string, consumerId: string, a: { partition: number; offset: number; deliveryCount: number }, nowMs: number): BrokerError | undefined {
    const held = this.groups.get(groupId) as ShareGroupState;
    try {
      validatePartition(held.record.topic, a.partition, held.partitions.length);
    } catch (err) {
      if (err instanceof BrokerError) return err;
      throw err;
    }
    return this.heldErrorIn(held, consumerId, a.partition, a.offset, a.deliveryCount, nowMs);
  }

  // ---- commands ----

  /**
   * Throws the refusal a create of `groupId` on `topicName` would meet (the rules create() applies), so
   * that the leader refuses before it proposes anything: a refused call writes nothing to the log.
   */
  checkCreate(groupId: string, topicName: string, topics: ShareTopicView): void {
    const topic = topics.liveTopic(topicName);
    if (!topic) throw unknownTopic(topicName);
    const existing = this.groups.get(groupId);
    if (existing) {
      const r = existing.record;
      // Same name, another id: the topic was deleted and created again; create() starts the group afresh.
      if (r.topic !== topicName) {
        throw new BrokerError("ALREADY_EXISTS", "ERROR_REASON_SHARE_GROUP_EXISTS", `share group "${groupId}" exists on topic "${r.topic}"`);
      }
    } else if (this.groups.size >= maxShareGroups) {
      throw new BrokerError("RESOURCE_EXHAUSTED", "ERROR_REASON_TOO_MANY_SHARE_GROUPS", `the cluster holds its maximum of ${maxShareGroups} share groups`);
    }
  }

  private create(command: ShareCreateCommand, topics: ShareTopicView): ShareOutcome {
    const topic = topics.liveTopic(command.topic);
    if (!topic) throw unknownTopic(command.topic);
    const config = resolveShareConfig(command.groupId, command.topic, command.config);
    if (!topics.liveTopic(config.deadLetterTopic)) throw unknownTopic(config.deadLetterTopic);
    this.checkCreate(command.groupId, command.topic, topics);
    const existing = this.groups.get(command.groupId);
    if (existing && existing.record.topicId === topic.id) {
      const r = existing.record;
      if (!command.replace) return { result: { kind: "shareGroupCreated", groupId: r.groupId, created: false, group: r }, mutations: [] };
      existing.record = { ...r, config };
      for (const sp of existing.partitions) sp.forgetDue();
      return { result: { kind: "shareGroupCreated", groupId: r.groupId, created: false, group: existing.record }, mutations: [{ kind: "putShareGroup", group: existing.record }] };
    }
    const record: ShareGroupRecord = {
      groupId: command.groupId,
      topic: command.topic,
      topicId: topic.id,
      config,
      createdAtMs: command.nowMs,
      acceptedTotal: 0,
      deadLetteredTotal: 0,
    };
    const partitions = Array.from({ length: topic.partitions }, (_, p) => {
      const start = topics.offsetRange(command.topic, p).startOffset;
      return new SharePartition(p, start, start);
    });
    // A group whose topic was deleted and created again: its old partitions' state goes with it.
    const dropped: ShareMutation[] = [];
    for (const sp of existing?.partitions ?? []) sp.drop(record.groupId, sp.partition >= partitions.length, dropped);
    this.groups.set(record.groupId, { record, partitions });
    return {
      result: { kind: "shareGroupCreated", groupId: record.groupId, created: true, group: record },
      mutations: [...dropped, { kind: "putShareGroup", group: record }, ...partitions.map((sp) => ({ kind: "putSharePartition" as const, partition: sp.record(record.groupId) }))],
    };
  }

  /**
   * Throws the refusal a delete of `groupId` at `nowMs` would meet (the rules remove() applies), so the
   * leader refuses before it proposes; returns how many records are held under an unexpired lock. A
   * group whose topic was deleted holds none: answers to its records are refused anyway.
   */
  checkDelete(groupId: string, nowMs: number, force: boolean, topics: ShareTopicView): number {
    validateGroupId(groupId);
    const g = this.groups.get(groupId);
    if (!g) throw unknownShareGroup(groupId);
    if (topics.liveTopic(g.record.topic)?.id !== g.record.topicId) return 0;
    let locked = 0;
    for (const sp of g.partitions) for (const r of sp.records.values()) if (r.state === "acquired" && r.lockUntilMs > nowMs) locked++;
    if (locked > 0 && !force) throw shareGroupInUse(groupId, `${locked} record(s) are held under an unexpired lock`);
    return locked;
  }

  /** Removes the group and all it stored, in one write: afterwards it is as if it had never been created. */
  private remove(command: ShareDeleteCommand, topics: ShareTopicView): ShareOutcome {
    const abandonedLocks = this.checkDelete(command.groupId, command.nowMs, command.force, topics);
    const g = this.groups.get(command.groupId) as ShareGroupState;
    const mutations: ShareMutation[] = [];
    for (const sp of g.partitions) sp.drop(command.groupId, true, mutations);
    mutations.push({ kind: "deleteShareGroup", groupId: command.groupId });
    this.groups.delete(command.groupId);
    return { result: { kind: "shareGroupDeleted", groupId: command.groupId, topic: g.record.topic, abandonedLocks }, mutations };
  }

  private acquire(command: ShareAcquireCommand, topics: ShareTopicView): ShareOutcome {
    const record = this.requireLive(command.groupId, topics);
    const g = this.groups.get(command.groupId) as ShareGroupState;
    validateConsumerId(command.consumerId, true);
    if (!Number.isInteger(command.maxRecords) || command.maxRecords < 1 || command.maxRecords > maxRecordsPerShareCall) {
      throw invalidField(`an acquisition takes 1..${maxRecordsPerShareCall} records, got ${command.maxRecords}`);
    }
    if (new Set(command.partitions).size !== command.partitions.length) throw invalidField("partitions must not repeat");
    for (const p of command.partitions) validatePartition(record.topic, p, g.partitions.length);
    const { config } = record;
    const taken: AcquiredRecord[] = [];
    const take = (sp: SharePartition, r: ShareRecordState): void => {
      r.state = "acquired";
      r.owner = command.consumerId;
      r.deliveryCount++;
      r.lockUntilMs = command.nowMs + config.lockTimeoutMs;
      r.availableAtMs = 0;
      sp.touch();
      sp.noteDue(r, config);
      taken.push({ partition: sp.partition, offset: r.offset, deliveryCount: r.deliveryCount, lockUntilMs: r.lockUntilMs });
    };
    for (const p of command.partitions) {
      const sp = g.partitions[p];
      const range = topics.offsetRange(record.topic, p);
      sp.clampTo(range.startOffset);
      if (taken.length < command.maxRecords && sp.anyDue(config, command.nowMs)) {
        for (const r of sp.records.values()) {
          if (taken.length >= command.maxRecords) break;
          if (deliverable(r, record, command.nowMs)) take(sp, r);
        }
      }
      while (taken.length < command.maxRecords && sp.windowEnd < range.highWatermark && sp.windowEnd - sp.startOffset < config.maxInFlightPerPartition) {
        const r: ShareRecordState = { offset: sp.windowEnd, deliveryCount: 0, state: "available", owner: "", lockUntilMs: 0, availableAtMs: 0 };
        sp.records.set(r.offset, r);
        sp.extend();
        take(sp, r);
      }
    }
    const mutations: ShareMutation[] = [];
    for (const sp of g.partitions) sp.flush(record.groupId, mutations);
    return { result: { kind: "shareAcquired", groupId: record.groupId, consumerId: command.consumerId, records: taken }, mutations };
  }

  private ack(command: ShareAckCommand): ShareOutcome {
    const g = this.groups.get(command.groupId);
    if (!g) throw unknownShareGroup(command.groupId);
    validateConsumerId(command.consumerId, true);
    const { config } = g.record;
    let accepted = 0;
    const outcomes = command.acks.map((a) => {
      const err = this.heldErrorIn(g, command.consumerId, a.partition, a.offset, a.deliveryCount, command.nowMs);
      if (err) return err;
      const sp = g.partitions[a.partition];
      const r = sp.records.get(a.offset) as ShareRecordState;
      applyAck(r, a, config.lockTimeoutMs, backoffMs(config, r.deliveryCount), command.nowMs);
      sp.noteDue(r, config);
      if (r.state === "accepted") accepted++;
      sp.touch();
      return undefined;
    });
    const mutations: ShareMutation[] = [];
    for (const sp of g.partitions) {
      sp.advance();
      sp.flush(g.record.groupId, mutations);
    }
    if (accepted > 0) {
      g.record = { ...g.record, acceptedTotal: g.record.acceptedTotal + accepted };
      mutations.push({ kind: "putShareGroup", group: g.record });
    }
    return { result: { kind: "shareAcked", groupId: g.record.groupId, outcomes }, mutations };
  }

  /**
   * Checks a ShareDeadLetter against the state (all or nothing) and retires its records. The caller
   * appends the dead letters to the dead-letter topic in the same apply, after checking that topic
   * first, so a refusal from either changes nothing.
   */
  checkDeadLetter(command: ShareDeadLetterCommand): ShareGroupRecord {
    const g = this.groups.get(command.groupId);
    if (!g) throw unknownShareGroup(command.groupId);
    if (command.entries.length === 0 || command.entries.length > maxRecordsPerShareCall) {
      throw invalidField(`a dead-letter command holds 1..${maxRecordsPerShareCall} records, got ${command.entries.length}`);
    }
    const seen = new Set<string>();
    for (const e of command.entries) {
      const key = `${e.partition}/${e.offset}`;
      if (seen.has(key)) throw invalidField(`record ${key} is dead-lettered twice in one command`);
      seen.add(key);
      if (e.rejectedBy !== "") {
        const err = this.heldErrorIn(g, e.rejectedBy, e.partition, e.offset, e.deliveryCount, command.nowMs);
        if (err) throw err;
        continue;
      }
      const r = g.partitions[e.partition]?.records.get(e.offset);
      if (!r || r.deliveryCount !== e.deliveryCount || effectiveState(r, g.record, command.nowMs) !== "deadLetterDue") {
        throw notAcquired(e.partition, e.offset, "not due for the dead-letter topic");
      }
    }
    return g.record;
  }

  deadLetter(command: ShareDeadLetterCommand): ShareMutation[] {
    this.checkDeadLetter(command);
    const g = this.groups.get(command.groupId) as ShareGroupState;
    for (const e of command.entries) {
      const sp = g.partitions[e.partition];
      (sp.records.get(e.offset) as ShareRecordState).state = "deadLettered";
      sp.touch();
    }
    const mutations: ShareMutation[] = [];
    for (const sp of g.partitions) {
      sp.advance();
      sp.flush(g.record.groupId, mutations);
    }
    g.record = { ...g.record, deadLetteredTotal: g.record.deadLetteredTotal + command.entries.length };
    mutations.push({ kind: "putShareGroup", group: g.record });
    return mutations;
  }

  /**
   * Why `consumerId` may not answer this record (its delivery numbered `deliveryCount`, or 0 for the
   * current one) at `nowMs`, or undefined when it may. Naming the delivery keeps an answer to an earlier
   * acquisition (whose lock ran out) from settling a later one.
   */
  private heldErrorIn(g: ShareGroupState, consumerId: string, partition: number, offset: number, deliveryCount: number, nowMs: number): BrokerError | undefined {
    const sp = g.partitions[partition];
    if (!sp || !Number.isSafeInteger(offset) || offset < 0) return notAcquired(partition, offset, "no such record");
    if (offset < sp.startOffset) return notAcquired(partition, offset, "already answered");
    const r = sp.records.get(offset);
    if (!r) return notAcquired(partition, offset, "never delivered");
    if (r.state === "accepted" || r.state === "deadLettered") return notAcquired(partition, offset, "already answered");
    if (r.state === "available") return notAcquired(partition, offset, "released or not delivered since");
    if (r.owner !== consumerId) return notOwner(partition, offset);
    if (r.lockUntilMs <= nowMs || (deliveryCount !== 0 && deliveryCount !== r.deliveryCount)) return lockExpired(partition, offset);
    return undefined;
  }
}

function applyAck(r: ShareRecordState, a: ShareAck, lockTimeoutMs: number, backoff: number, nowMs: number): void {
  switch (a.type) {
    case ShareAckType.Accept:
      r.state = "accepted";
      return;
    case ShareAckType.Release:
      r.state = "available";
      r.availableAtMs = nowMs + Math.max(a.delayMs, backoff);
      return;
    case ShareAckType.Renew:
      r.lockUntilMs = nowMs + lockTimeoutMs;
      return;
  }
}

/** A record's state at `nowMs`: a lock that ran out counts as a release at its expiry time. */
export function effectiveState(r: ShareRecordState, group: ShareGroupRecord, nowMs: number): EffectiveState {
  if (r.state === "accepted" || r.state === "deadLettered") return "done";
  if (r.state === "acquired" && r.lockUntilMs > nowMs) return "acquired";
  return r.deliveryCount >= group.config.deliveryLimit ? "deadLetterDue" : "available";
}

/** When a record becomes deliverable or due for the dead-letter topic; never for a done record. */
function dueMs(r: ShareRecordState, config: ShareConfig): number {
  if (r.state === "accepted" || r.state === "deadLettered") return Number.POSITIVE_INFINITY;
  const atLimit = r.deliveryCount >= config.deliveryLimit;
  if (r.state === "acquired") return atLimit ? r.lockUntilMs : r.lockUntilMs + backoffMs(config, r.deliveryCount);
  return atLimit ? 0 : r.availableAtMs;
}

function deliverable(r: ShareRecordState, group: ShareGroupRecord, nowMs: number): boolean {
  if (effectiveState(r, group, nowMs) !== "available") return false;
  const availableAtMs = r.state === "acquired" ? r.lockUntilMs + backoffMs(group.config, r.deliveryCount) : r.availableAtMs;
  return availableAtMs <= nowMs;
}
