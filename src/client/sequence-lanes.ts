// Idempotent delivery. Each topic-partition is a lane: its batches get sequence numbers in send order,
// at most maxInFlightPerPartition of them are unacknowledged at a time, and after a failure the lane
// waits for its in-flight batches to come back, then resends the unacknowledged ones, in order, with the
// same producer id, epoch and sequences. The broker appends each batch once and answers a resent copy
// of an appended one with its original offsets (see "Idempotent produce" in producer.proto).
//
// How each failure is handled:
//   - retriable (UNAVAILABLE, DEADLINE_EXCEEDED): resent, within the retry policy's budget; beyond it the
//     producer stops (its batch may or may not be appended, so later ones could no longer keep order);
//   - OUT_OF_ORDER_SEQUENCE for a batch behind one not yet appended, or sent before a renumbering: resent;
//   - refused for good (e.g. NOT_FOUND, RECORD_TOO_LARGE) and never in doubt: that batch fails, and the
//     lane's later batches take over its sequences;
//   - UNKNOWN_PRODUCER_ID (the id expired while idle): once nothing is in flight, a new id is fetched and
//     every waiting batch is renumbered from 0; a batch that was in doubt fails, since it cannot be
//     recognized under the new id;
//   - PRODUCER_FENCED, OUT_OF_ORDER_SEQUENCE at the head of a lane, SEQUENCE_REUSED (a sequence taken by
//     other records: the lanes and the broker disagree), or any other outcome-unknown failure: the
//     producer stops; every unsettled send and every later one fails with that error.
import { status } from "@grpc/grpc-js";
import type { ProduceBatch } from "../generated/raftline/v1/ProduceBatch";
import type { ProduceBatchResult__Output } from "../generated/raftline/v1/ProduceBatchResult";
import type { Record as WireRecord } from "../generated/raftline/v1/Record";
import { RaftlineError, toRaftlineError } from "./errors";
import { RecordPlacement, placementsOf } from "./produce-results";
import { ProducerRecord, toWireRecord } from "./records";
import { RetryBudget, RetryClock, RetryPolicy } from "./retry";

/** The broker remembers this many batches per producer and partition; more in flight could not be recognized. */
export const maxInFlightPerPartitionCeiling = 5;
const sequenceModulus = 0x8000_0000;
/** New producer ids fetched after UNKNOWN_PRODUCER_ID with no batch appended in between, before giving up. */
export const maxIdentityResetsWithoutProgress = 3;

export interface ProducerIdentity {
  producerId: number;
  epoch: number;
}

/** A batch as the lanes see it: its partition is always chosen by now. */
export interface LaneBatch {
  topic: string;
  partition: number | undefined;
  records: ProducerRecord[];
}

export interface LanePorts<B extends LaneBatch> {
  /** One attempt: the batch to the leader, its result back, or a throw. */
  send(wire: ProduceBatch): Promise<ProduceBatchResult__Output>;
  /** InitProducer, retried by the caller's policy: 0 for a new id, else that id's next epoch. */
  initProducer(producerId: number): Promise<ProducerIdentity>;
  /** Sees every failure first, to learn leader hints. */
  noteError(err: RaftlineError): void;
  /** Settles a batch's sends; called once per batch. */
  done(batch: B, outcome: RecordPlacement[] | RaftlineError): void;
}

export interface LaneLimits {
  /** Requests in flight over all lanes. */
  maxInFlight: number;
  maxInFlightPerPartition: number;
}

interface Entry<B extends LaneBatch> {
  batch: B;
  wireRecords: WireRecord[];
  /** Assigned when first sent; shifted down when an earlier batch of the lane is refused for good. */
  sequence: number | undefined;
  /** The sequence the attempt in flight (or the last one) carried. */
  sentSequence: number | undefined;
  state: "queued" | "inFlight" | "failed";
  /** An attempt ended without a definite answer: the broker may hold this batch. */
  inDoubt: boolean;
  /** Created at the first failure, so time spent queued does not count against the retry time. */
  budget: RetryBudget | undefined;
  retryWaitMs: number;
}

interface Lane<B extends LaneBatch> {
  topic: string;
  partition: number;
  /** Unacknowledged batches in sequence order: in flight or failed first, then never sent. */
  entries: Entry<B>[];
  nextSequence: number;
  inFlight: number;
  /** A batch failed: send nothing new until the in-flight ones are back, then resend in order. */
  recovering: boolean;
  /** Waiting out a backoff before resending. */
  paused: boolean;
}

function addSequence(sequence: number, count: number): number {
  return (((sequence + count) % sequenceModulus) + sequenceModulus) % sequenceModulus;
}

/** Refusals that say the producer's own state no longer matches the broker's: no batch can follow. */
const producerStateReasons: ReadonlySet<string> = new Set([
  "ERROR_REASON_PRODUCER_FENCED",
  "ERROR_REASON_OUT_OF_ORDER_SEQUENCE",
  "ERROR_REASON_SEQUENCE_REUSED",
  "ERROR_REASON_UNKNOWN_PRODUCER_ID",
]);

/** The broker refused this batch alone and appended none of it; later batches may still go. */
function refusedForGood(err: RaftlineError): boolean {
  const codes: status[] = [status.INVALID_ARGUMENT, status.NOT_FOUND, status.RESOURCE_EXHAUSTED, status.FAILED_PRECONDITION, status.OUT_OF_RANGE];
  return codes.includes(err.code) && !producerStateReasons.has(err.reason);
}

export class SequenceLanes<B extends LaneBatch> {
  private readonly lanes = new Map<string, Lane<B>>();
  private identity: ProducerIdentity | undefined;
  private initializing = false;
  /** UNKNOWN_PRODUCER_ID was answered: a new identity is fetched once nothing is in flight. */
  private identityLost = false;
  private fatal: RaftlineError | undefined;
  private inFlight = 0;
  private identityResets = 0;

  constructor(
    private readonly ports: LanePorts<B>,
    private readonly limits: LaneLimits,
    private readonly policy: RetryPolicy,
    private readonly clock: RetryClock,
    /** The id to take over (bumping its epoch) on the first InitProducer; 0 for a new one. */
    private requestedProducerId = 0,
  ) {
    if (!(limits.maxInFlightPerPartition >= 1 && limits.maxInFlightPerPartition <= maxInFlightPerPartitionCeiling)) {
      throw new RangeError(`maxInFlightPerPartition must be in 1..${maxInFlightPerPartitionCeiling}`);
    }
  }

  /** Set once the producer has stopped: every later batch fails with it. */
  get failure(): RaftlineError | undefined {
    return this.fatal;
  }

  get producerIdentity(): ProducerIdentity | undefined {
    return this.identity ? { ...this.identity } : undefined;
  }

  add(batch: B): void {
    if (this.fatal) {
      this.ports.done(batch, this.fatal);
      return;
    }
    if (batch.partition === undefined) throw new Error("an idempotent batch needs its partition chosen");
    const key = `${batch.partition}/${batch.topic}`;
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { topic: batch.topic, partition: batch.partition, entries: [], nextSequence: 0, inFlight: 0, recovering: false, paused: false };
      this.lanes.set(key, lane);
    }
    lane.entries.push({
      batch,
      wireRecords: batch.records.map(toWireRecord),
      sequence: undefined,
      sentSequence: undefined,
      state: "queued",
      inDoubt: false,
      budget: undefined,
      retryWaitMs: 0,
    });
  }

  /** Sends what the windows allow. */
  pump(): void {
    if (this.fatal || this.identityLost) return;
    if (!this.identity) {
      if (this.hasWaiting()) this.ensureIdentity();
      return;
    }
    for (const lane of this.lanes.values()) {
      while (this.inFlight < this.limits.maxInFlight && !lane.recovering && !lane.paused && lane.inFlight < this.limits.maxInFlightPerPartition) {
        const next = lane.entries.find((e) => e.state === "queued");
        if (!next) break;
        this.dispatch(lane, next, this.identity);
      }
    }
  }

  /** Stops: batches not in flight fail now with `err`, those in flight when they come back. */
  fail(err: RaftlineError): void {
    if (this.fatal) return;
    this.fatal = err;
    const settled: Entry<B>[] = [];
    for (const lane of this.lanes.values()) {
      const [inFlight, rest] = partition(lane.entries, (e) => e.state === "inFlight");
      lane.entries = inFlight;
      settled.push(...rest);
    }
    for (const entry of settled) this.ports.done(entry.batch, err);
  }

  private hasWaiting(): boolean {
    for (const lane of this.lanes.values()) if (lane.entries.length > 0) return true;
    return false;
  }

  private ensureIdentity(): void {
    if (this.initializing) return;
    this.initializing = true;
    const requested = this.requestedProducerId;
    this.ports.initProducer(requested).then(
      (identity) => {
        this.initializing = false;
        this.requestedProducerId = 0;
        this.identity = identity;
        this.pump();
      },
      (thrown: unknown) => {
        this.initializing = false;
        // Nothing was sent without an identity: what waits fails, and the next send asks again.
        const err = toRaftlineError(thrown);
        const waiting = [...this.lanes.values()].flatMap((lane) => lane.entries.splice(0));
        for (const entry of waiting) this.ports.done(entry.batch, err);
      },
    );
  }

  private dispatch(lane: Lane<B>, entry: Entry<B>, identity: ProducerIdentity): void {
    if (entry.sequence === undefined) {
      entry.sequence = lane.nextSequence;
      lane.nextSequence = addSequence(lane.nextSequence, entry.wireRecords.length);
    }
    entry.state = "inFlight";
    entry.sentSequence = entry.sequence;
    lane.inFlight++;
    this.inFlight++;
    const wire: ProduceBatch = {
      topic: lane.topic,
      partition: lane.partition,
      records: entry.wireRecords,
      producerId: identity.producerId,
      producerEpoch: identity.epoch,
      baseSequence: entry.sequence,
    };
    this.ports.send(wire).then(
      (result) => this.landed(lane, entry, result),
      (err: unknown) => this.landed(lane, entry, toRaftlineError(err)),
    );
  }

  private landed(lane: Lane<B>, entry: Entry<B>, outcome: ProduceBatchResult__Output | RaftlineError): void {
    lane.inFlight--;
    this.inFlight--;
    let settle: RecordPlacement[] | RaftlineError | undefined;
    if (outcome instanceof RaftlineError) {
      this.ports.noteError(outcome);
      settle = this.fatal ? this.fatal : this.judge(lane, entry, outcome);
    } else {
      try {
        settle = placementsOf(outcome, entry.wireRecords.length);
        this.identityResets = 0;
      } catch (err) {
        settle = toRaftlineError(err);
        this.fail(settle);
      }
    }
    if (settle !== undefined) remove(lane, entry);
    this.maybeResetIdentity();
    this.maybeResume(lane);
    if (settle !== undefined) this.ports.done(entry.batch, settle);
    this.pump();
  }

  /** Decides what a failed attempt means; returns the error to settle the batch with, or undefined to keep it. */
  private judge(lane: Lane<B>, entry: Entry<B>, err: RaftlineError): RaftlineError | undefined {
    const atHead = lane.entries[0] === entry && entry.sentSequence === entry.sequence;
    if (err.reason === "ERROR_REASON_OUT_OF_ORDER_SEQUENCE" && !atHead) {
      // An earlier batch is not appended yet, or this one carried a sequence since shifted: resend in order.
      entry.state = "failed";
      entry.retryWaitMs = 0;
      lane.recovering = true;
      return undefined;
    }
    if (err.reason === "ERROR_REASON_UNKNOWN_PRODUCER_ID" && this.identityResets < maxIdentityResetsWithoutProgress) {
      this.identityLost = true;
      entry.state = "queued";
      return undefined;
    }
    if (err.retriable) {
      entry.inDoubt = true;
      entry.budget ??= new RetryBudget(this.policy, this.clock);
      const waitMs = entry.budget.next(err);
      if (waitMs !== undefined) {
        entry.state = "failed";
        entry.retryWaitMs = waitMs;
        lane.recovering = true;
        return undefined;
      }
    } else if (refusedForGood(err) && !entry.inDoubt) {
      this.giveUpSequences(lane, entry);
      return err;
    }
    this.fail(err);
    return err;
  }

  /** A batch refused for good never took its sequences: the lane's later batches move down onto them. */
  private giveUpSequences(lane: Lane<B>, refused: Entry<B>): void {
    const count = refused.wireRecords.length;
    const after = lane.entries.slice(lane.entries.indexOf(refused) + 1);
    if (refused.sequence !== undefined) {
      for (const later of after) if (later.sequence !== undefined) later.sequence = addSequence(later.sequence, -count);
      lane.nextSequence = addSequence(lane.nextSequence, -count);
    }
    // Later batches in flight carry the old numbers and will bounce: resend them once they are back.
    if (lane.inFlight > 0) lane.recovering = true;
  }

  /** After UNKNOWN_PRODUCER_ID, once nothing is in flight: a new id, and every lane starts again at 0. */
  private maybeResetIdentity(): void {
    if (!this.identityLost || this.inFlight > 0 || this.fatal) return;
    this.identityLost = false;
    this.identityResets++;
    const lostId = this.identity?.producerId;
    this.identity = undefined;
    const inDoubt: Entry<B>[] = [];
    for (const lane of this.lanes.values()) {
      const [doubtful, kept] = partition(lane.entries, (e) => e.inDoubt);
      inDoubt.push(...doubtful);
      for (const entry of kept) {
        entry.sequence = undefined;
        entry.state = "queued";
      }
      lane.entries = kept;
      lane.nextSequence = 0;
      lane.recovering = false;
    }
    const err = new RaftlineError({
      code: status.FAILED_PRECONDITION,
      reason: "ERROR_REASON_UNKNOWN_PRODUCER_ID",
      message: `producer id ${lostId} expired before this batch was confirmed: it may or may not have been appended`,
    });
    for (const entry of inDoubt) this.ports.done(entry.batch, err);
  }

  /** Once a recovering lane has nothing in flight: resend its failed batches in order, after their backoff. */
  private maybeResume(lane: Lane<B>): void {
    if (!lane.recovering || lane.inFlight > 0) return;
    lane.recovering = false;
    const failed = lane.entries.filter((e) => e.state === "failed");
    if (failed.length === 0) return;
    const waitMs = Math.max(...failed.map((e) => e.retryWaitMs));
    for (const entry of failed) entry.state = "queued";
    if (waitMs <= 0) return;
    lane.paused = true;
    void this.clock.sleep(waitMs).then(() => {
      lane.paused = false;
      this.pump();
    });
  }
}

function remove<B extends LaneBatch>(lane: Lane<B>, entry: Entry<B>): void {
  const index = lane.entries.indexOf(entry);
  if (index >= 0) lane.entries.splice(index, 1);
}

function partition<T>(items: T[], test: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const item of items) (test(item) ? yes : no).push(item);
  return [yes, no];
}
