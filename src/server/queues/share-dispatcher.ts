// The share-group dispatcher, active on the raft leader: it holds the consumers' Receive streams and
// waiting Pop calls, and hands records out by proposing ShareAcquire commands for them, one group at a
// time, consumers in turn. It also moves records that reached the delivery limit to the dead-letter
// topic. What it decides is in the log (which records each acquisition takes is decided by apply); what
// it keeps in memory (open streams, waiting pops, credit) belongs to connections that end with the
// leadership anyway.
import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { Role } from "../../raft";
import { ShareCommandKind, maxRecordsPerShareCall, unknownShareGroup, type AcquiredRecord, type ShareGroupRecord, type ShareResult } from "../../broker";
import type { DeliveryBatch, DeliveryItem } from "./delivery-wire";
import type { NodeContext } from "../node-context";
import { ReplicaError } from "../replica-errors";
import type { Abortable } from "../apply-signal";
import { RpcError } from "../rpc-errors";
import { asRpcError, commit, unexpected } from "../services/rpc";
import { deadLetterCommand } from "./dead-letters";
import { readOffsets } from "./record-reader";

/** How often the leader looks for locks that ran out, backoffs that ended and due dead letters. */
export const dispatchCheckMs = 50;
/** Deadline of a command the dispatcher proposes. */
export const shareCommandDeadlineMs = 10_000;
/** Records one acquisition takes at most (a consumer's credit may be larger: it gets several). */
const maxRecordsPerAcquire = maxRecordsPerShareCall;
/**
 * Acquisitions a group may have in the log at once (each for another consumer): they share raft's group
 * commit, so many consumers are served in about the time of one.
 */
const maxAcquiresInFlight = 32;
/** Dead letters moved per command. */
const maxDeadLettersPerCommand = 100;

/** A consumer's open Receive stream on this node. */
export interface Receiver {
  groupId: string;
  consumerId: string;
  /** Records it may still be sent. */
  credit: number;
  deliver(batch: DeliveryBatch): void;
  fail(err: RpcError | ReplicaError): void;
}

interface PopWaiter {
  groupId: string;
  consumerId: string;
  maxRecords: number;
  untilMs: number;
  /** An acquisition for it is under way: its timeout waits for that answer. */
  serving: boolean;
  done: boolean;
  resolve(batch: DeliveryBatch): void;
  reject(err: unknown): void;
}

type Demander = { kind: "receiver"; receiver: Receiver } | { kind: "pop"; waiter: PopWaiter };

export class ShareDispatcher {
  private readonly receivers = new Map<string, Set<Receiver>>();
  private readonly waiters = new Map<string, Set<PopWaiter>>();
  /** Acquisitions under way per group, and the consumers they are for. */
  private readonly inFlight = new Map<string, number>();
  private readonly serving = new Set<Receiver | PopWaiter>();
  private readonly movingDeadLetters = new Set<string>();
  private readonly turn = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: NodeContext,
    private readonly maxWaitingPops: number,
  ) {
    ctx.replica.on("role", (role: Role) => {
      if (role !== Role.Leader) this.dropAll();
    });
    ctx.replica.on("applied", () => {
      this.endDeleted();
      for (const groupId of this.demandGroups()) this.poke(groupId);
    });
  }

  start(): void {
    this.timer = setInterval(() => {
      if (!this.ctx.replica.isLeader) return;
      const groups = new Set([...this.demandGroups(), ...this.groupsWithDeadLetters()]);
      for (const groupId of groups) this.poke(groupId);
    }, dispatchCheckMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.dropAll();
  }

  newConsumerId(prefix: string): string {
    return `${prefix}-${randomUUID()}`;
  }

  /** Does any consumer have a Receive stream open on the group here? */
  hasReceivers(groupId: string): boolean {
    return (this.receivers.get(groupId)?.size ?? 0) > 0;
  }

  /** Consumers with a Receive stream open here, ordered. */
  consumersOf(groupId: string): string[] {
    return [...new Set([...(this.receivers.get(groupId) ?? [])].map((r) => r.consumerId))].sort();
  }

  attach(receiver: Receiver): void {
    let set = this.receivers.get(receiver.groupId);
    if (!set) this.receivers.set(receiver.groupId, (set = new Set()));
    set.add(receiver);
  }

  detach(receiver: Receiver): void {
    const set = this.receivers.get(receiver.groupId);
    set?.delete(receiver);
    if (set?.size === 0) this.receivers.delete(receiver.groupId);
  }

  /**
   * Waits up to timeoutMs for records, then acquires up to maxRecords for the consumer. A call that is
   * cancelled stops waiting (unless an acquisition for it is under way). At most maxWaitingPops wait on
   * a node; more are refused RESOURCE_EXHAUSTED + OVERLOADED.
   */
  pop(groupId: string, consumerId: string, maxRecords: number, timeoutMs: number, abort: Abortable): Promise<DeliveryBatch> {
    let waiting = 0;
    for (const set of this.waiters.values()) waiting += set.size;
    if (waiting >= this.maxWaitingPops) {
      return Promise.reject(new RpcError(status.RESOURCE_EXHAUSTED, "ERROR_REASON_OVERLOADED", `this node holds its maximum of ${this.maxWaitingPops} waiting Pop calls; retry later`));
    }
    return new Promise((resolve, reject) => {
      let set = this.waiters.get(groupId);
      if (!set) this.waiters.set(groupId, (set = new Set()));
      const waiter: PopWaiter = {
        groupId,
        consumerId,
        maxRecords,
        untilMs: this.ctx.now() + timeoutMs,
        serving: false,
        done: false,
        resolve: (d) => finish(() => resolve(d)),
        reject: (err) => finish(() => reject(err)),
      };
      const giveUp = (): void => {
        if (!waiter.serving) waiter.resolve({ topic: "", items: [] });
      };
      const timer = setTimeout(giveUp, timeoutMs);
      abort.once("cancelled", giveUp);
      const finish = (settle: () => void): void => {
        if (waiter.done) return;
        waiter.done = true;
        clearTimeout(timer);
        abort.off("cancelled", giveUp);
        set.delete(waiter);
        if (set.size === 0 && this.waiters.get(groupId) === set) this.waiters.delete(groupId);
        settle();
      };
      set.add(waiter);
      this.poke(groupId);
    });
  }

  /** Something changed for the group (credit, an ack, a release): hand out what can be handed out. */
  poke(groupId: string): void {
    if (!this.ctx.replica.isLeader) return;
    if (!this.movingDeadLetters.has(groupId)) {
      this.movingDeadLetters.add(groupId);
      void this.moveDeadLetters(groupId)
        .catch((err: unknown) => this.ctx.logger.warn({ err, groupId }, "moving dead letters failed; retrying"))
        .finally(() => this.movingDeadLetters.delete(groupId));
    }
    this.fill(groupId);
  }

  /**
   * Starts acquisitions for consumers in turn, one per consumer at a time and at most
   * maxAcquiresInFlight for the group, while records are deliverable.
   */
  private fill(groupId: string): void {
    const state = this.ctx.machine.state;
    for (;;) {
      const group = state.shares.group(groupId);
      if (!group || !this.ctx.replica.isLeader || (this.inFlight.get(groupId) ?? 0) >= maxAcquiresInFlight) return;
      const demanders = this.demanders(groupId);
      if (demanders.length === 0 || !state.shares.hasDeliverable(groupId, this.ctx.now(), state.topicView)) return;
      const turn = (this.turn.get(groupId) ?? 0) % demanders.length;
      this.turn.set(groupId, turn + 1);
      const d = demanders[turn];
      const who = d.kind === "receiver" ? d.receiver : d.waiter;
      this.inFlight.set(groupId, (this.inFlight.get(groupId) ?? 0) + 1);
      this.serving.add(who);
      void this.serve(group, d)
        .catch((err: unknown) => {
          this.ctx.logger.warn({ err, groupId }, "share dispatch failed; retrying");
          return 0;
        })
        .then((served) => {
          this.inFlight.set(groupId, (this.inFlight.get(groupId) ?? 1) - 1);
          this.serving.delete(who);
          // After an empty acquisition the next change (an apply, the timer) tries again.
          if (served > 0) this.fill(groupId);
        });
    }
  }

  /** One acquisition for one consumer, and its records sent; resolves with how many were acquired. */
  private async serve(group: ShareGroupRecord, d: Demander): Promise<number> {
    const consumerId = d.kind === "receiver" ? d.receiver.consumerId : d.waiter.consumerId;
    const want = Math.min(maxRecordsPerAcquire, d.kind === "receiver" ? d.receiver.credit : d.waiter.maxRecords);
    if (d.kind === "receiver") d.receiver.credit -= want;
    else d.waiter.serving = true;
    let records: AcquiredRecord[] = [];
    try {
      records = await this.acquire(group, consumerId, want);
    } catch (err) {
      if (d.kind === "pop") d.waiter.reject(err);
      throw err;
    } finally {
      if (d.kind === "receiver") d.receiver.credit += want - records.length;
    }
    if (records.length === 0) {
      if (d.kind === "pop") {
        d.waiter.serving = false;
        // Its timeout passed while the acquisition was under way, and found nothing.
        if (this.ctx.now() >= d.waiter.untilMs) d.waiter.resolve({ topic: group.topic, items: [] });
      }
      return 0;
    }
    // Credit is spent only on what reaches the consumer, so its count and the client's stay equal.
    let deliveries: DeliveryItem[] = [];
    try {
      deliveries = await this.deliveries(group, records);
    } catch (err) {
      if (d.kind === "pop") d.waiter.reject(err);
      throw err;
    } finally {
      if (d.kind === "receiver") d.receiver.credit += records.length - deliveries.length;
    }
    const batch = { topic: group.topic, items: deliveries };
    if (d.kind === "receiver") d.receiver.deliver(batch);
    else d.waiter.resolve(batch);
    return records.length;
  }

  private async acquire(group: ShareGroupRecord, consumerId: string, maxRecords: number): Promise<AcquiredRecord[]> {
    const partitions = this.ctx.machine.state.shares.partitionCount(group.groupId);
    // Rotate the partition order so that no partition starves the others.
    const first = (this.turn.get(group.groupId) ?? 0) % Math.max(partitions, 1);
    const order = Array.from({ length: partitions }, (_, i) => (first + i) % partitions);
    const result = await this.propose({ kind: ShareCommandKind.ShareAcquire, nowMs: this.ctx.now(), groupId: group.groupId, consumerId, maxRecords, partitions: order });
    if (result.kind !== "shareAcquired") throw unexpected(result);
    return result.records;
  }

  private async deliveries(group: ShareGroupRecord, records: AcquiredRecord[]): Promise<DeliveryItem[]> {
    const out: DeliveryItem[] = [];
    const byPartition = new Map<number, AcquiredRecord[]>();
    for (const r of records) byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r]);
    for (const [partition, list] of byPartition) {
      const read = await readOffsets(this.ctx, group.topic, partition, list.map((r) => r.offset));
      for (const a of list) {
        const r = read.get(a.offset);
        if (!r) continue;
        out.push({ partition, record: r, deliveryCount: a.deliveryCount, lockUntilMs: a.lockUntilMs });
      }
    }
    return out;
  }

  /** Moves records at the delivery limit to the dead-letter topic, a command at a time. */
  private async moveDeadLetters(groupId: string): Promise<void> {
    const shares = this.ctx.machine.state.shares;
    for (;;) {
      const group = shares.group(groupId);
      const nowMs = this.ctx.now();
      const due = group ? shares.deadLettersDue(groupId, nowMs, maxDeadLettersPerCommand) : [];
      if (!group || due.length === 0 || !this.ctx.replica.isLeader) return;
      const command = await deadLetterCommand(this.ctx, group, due.map((d) => ({ ...d, rejectedBy: "", reason: "" })), nowMs);
      if (!command) return;
      await this.propose(command);
    }
  }

  async propose(command: Parameters<typeof commit>[1]): Promise<ShareResult> {
    const result = await commit(this.ctx, command, this.ctx.now() + shareCommandDeadlineMs);
    if (!["shareGroupCreated", "shareAcquired", "shareAcked", "shareDeadLettered", "shareGroupDeleted"].includes(result.kind)) throw unexpected(result);
    return result as ShareResult;
  }

  private demanders(groupId: string): Demander[] {
    const out: Demander[] = [];
    for (const receiver of this.receivers.get(groupId) ?? []) if (receiver.credit > 0 && !this.serving.has(receiver)) out.push({ kind: "receiver", receiver });
    for (const waiter of this.waiters.get(groupId) ?? []) if (!waiter.serving && !waiter.done && !this.serving.has(waiter)) out.push({ kind: "pop", waiter });
    return out;
  }

  private demandGroups(): string[] {
    const groups = new Set<string>();
    for (const [groupId, set] of this.receivers) for (const r of set) if (r.credit > 0) groups.add(groupId);
    for (const groupId of this.waiters.keys()) groups.add(groupId);
    return [...groups];
  }

  private groupsWithDeadLetters(): string[] {
    const shares = this.ctx.machine.state.shares;
    const nowMs = this.ctx.now();
    return shares.groupIds().filter((id) => shares.deadLettersDue(id, nowMs, 1).length > 0);
  }

  /**
   * Ends the streams and waiting Pop calls of groups that are gone (DeleteShareGroup, or their topic
   * deleted) with UNKNOWN_SHARE_GROUP, as a call arriving now would be answered.
   */
  private endDeleted(): void {
    const state = this.ctx.machine.state;
    const gone = (groupId: string): boolean => {
      const group = state.shares.group(groupId);
      return !group || state.topicView.liveTopic(group.topic)?.id !== group.topicId;
    };
    for (const [groupId, set] of [...this.receivers]) {
      if (!gone(groupId)) continue;
      const err = asRpcError(unknownShareGroup(groupId));
      for (const r of [...set]) r.fail(err);
      this.receivers.delete(groupId);
    }
    for (const [groupId, set] of [...this.waiters]) {
      if (!gone(groupId)) continue;
      for (const w of [...set]) w.reject(unknownShareGroup(groupId));
    }
  }

  private dropAll(): void {
    const err = new ReplicaError("NOT_LEADER", "the share dispatcher moved with the raft leadership; reconnect at the leader", this.ctx.replica.leaderId, true);
    for (const set of [...this.receivers.values()]) for (const r of [...set]) r.fail(err);
    this.receivers.clear();
    for (const set of [...this.waiters.values()]) for (const w of [...set]) w.reject(err);
    this.waiters.clear();
  }
}
