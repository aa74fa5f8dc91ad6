// The producer: send() accepts records, batches them per topic-partition for up to lingerMs, and sends
// each batch as one request, pipelined on a ProduceStream to the leader with at most maxInFlight
// unanswered. Every bound is in ProducerLimits.
//
// Delivery: a batch that fails retriably (no leader, leader moved, stream broken) is retried through
// the retrier, straight to a hinted leader. A retry after DEADLINE_EXCEEDED may append the records twice,
// and with maxInFlight > 1 a retried batch may land after a later one of the same partition. The
// idempotent producer closes both gaps: its batches carry a producer id and per-partition sequences, and
// sequence-lanes.ts resends them in order so the broker appends each exactly once. A send whose records
// span several batches (more than maxBatchRecords or maxBatchBytes, or several partitions) is not
// atomic: some batches may be appended and others fail.
import { status } from "@grpc/grpc-js";
import type { ProduceBatch } from "../generated/raftline/v1/ProduceBatch";
import type { ProduceBatchResult__Output } from "../generated/raftline/v1/ProduceBatchResult";
import type { CallRunner } from "./call-runner";
import { RaftlineError, toRaftlineError } from "./errors";
import { PartitionChooser, PartitionGroup } from "./partition-chooser";
import { ProduceLink } from "./produce-link";
import { RecordPlacement, placementsOf } from "./produce-results";
import type { ProducerLimits } from "./producer-options";
import { RecordBatch, RecordBatcher, batchKey } from "./record-batcher";
import { ProducerRecord, RecordMetadata, toWireRecord } from "./records";
import { RetryPolicy, retry } from "./retry";
import { ProducerIdentity, SequenceLanes } from "./sequence-lanes";

export interface ProducerMessage {
  topic: string;
  /**
   * Absent lets the server choose per record: by key, else one partition per batch in turn. An
   * idempotent producer chooses the same way itself, keyless records of one send going together.
   */
  partition?: number;
  records: ProducerRecord[];
}

/** What an idempotent producer asks of the cluster besides produce requests. */
export interface IdempotenceCalls {
  /** InitProducer: 0 for a new id, else that id's next epoch. */
  initProducer(producerId: number): Promise<ProducerIdentity>;
  partitionCount(topic: string): Promise<number>;
  /** The id to take over on the first InitProducer; 0 for a new one. */
  producerId: number;
}

/** Asking any broker who leads is done at most this often while no leader is known. */
const leaderDiscoveryIntervalMs = 1000;

interface PendingSend {
  topic: string;
  placements: RecordMetadata[];
  unsettledRecords: number;
  failed: boolean;
  resolve(placements: RecordMetadata[]): void;
  reject(err: RaftlineError): void;
}

interface RoomWaiter {
  records: number;
  admit(): void;
  reject(err: RaftlineError): void;
}

export class Producer {
  private readonly batcher: RecordBatcher<PendingSend>;
  private readonly lingerTimers = new Map<string, NodeJS.Timeout>();
  private readonly readyBatches: RecordBatch<PendingSend>[] = [];
  private readonly roomWaiters: RoomWaiter[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private bufferedRecords = 0;
  private inFlight = 0;
  private link: ProduceLink | undefined;
  private closed = false;
  private abortError: RaftlineError | undefined;
  private lastDiscoveryMs = -Infinity;
  private discovery: Promise<void> | undefined;
  /** Idempotent only: the lanes that number and resend batches, and partition choice in send order. */
  private readonly lanes: SequenceLanes<RecordBatch<PendingSend>> | undefined;
  private readonly chooser: PartitionChooser | undefined;
  private admission: Promise<void> = Promise.resolve();
  /** Sends waiting in the admission chain (for a partition count), not yet counted as buffered. */
  private admitting = 0;

  constructor(
    private readonly runner: CallRunner,
    private readonly limits: ProducerLimits,
    private readonly policy: RetryPolicy,
    private readonly discoverLeader: () => Promise<void>,
    idempotence?: IdempotenceCalls,
  ) {
    this.batcher = new RecordBatcher({ maxBatchRecords: limits.maxBatchRecords, maxBatchBytes: limits.maxBatchBytes });
    if (limits.idempotent) {
      if (!idempotence) throw new Error("an idempotent producer needs InitProducer and DescribeTopic calls");
      this.chooser = new PartitionChooser((topic) => idempotence.partitionCount(topic));
      this.lanes = new SequenceLanes<RecordBatch<PendingSend>>(
        {
          send: (wire) => this.sendOne(wire),
          initProducer: (id) => idempotence.initProducer(id),
          noteError: (err) => this.runner.pool.noteError(err),
          done: (batch, outcome) => this.settleAndContinue(batch, outcome),
        },
        { maxInFlight: limits.maxInFlight, maxInFlightPerPartition: limits.maxInFlightPerPartition },
        policy,
        runner.clock,
        idempotence.producerId,
      );
    }
  }

  /** Idempotent only: the producer id and epoch in use, once InitProducer has answered. */
  get producerIdentity(): ProducerIdentity | undefined {
    return this.lanes?.producerIdentity;
  }

  /** Appends records; resolves with each record's partition and offset, in the order given. */
  send(message: ProducerMessage): Promise<RecordMetadata[]> {
    if (this.closed) return Promise.reject(new RaftlineError({ code: status.CANCELLED, message: "the producer is closed" }));
    if (message.records.length === 0) {
      return Promise.reject(
        new RaftlineError({ code: status.INVALID_ARGUMENT, reason: "ERROR_REASON_EMPTY_BATCH", message: "send() needs at least one record" }),
      );
    }
    const stopped = this.lanes?.failure;
    if (stopped) return Promise.reject(stopped);
    return new Promise((resolve, reject) => {
      const owner: PendingSend = {
        topic: message.topic,
        placements: new Array(message.records.length),
        unsettledRecords: message.records.length,
        failed: false,
        resolve,
        reject,
      };
      if (this.chooser) {
        // Partitions are chosen one send at a time, so sends keep their order however long a lookup takes.
        const chooser = this.chooser;
        this.admitting++;
        this.admission = this.admission.then(() => this.choosePartitions(chooser, message, owner));
      } else {
        this.admitInOrder(message.records.length, () => this.accept(message, owner), reject);
      }
    });
  }

  /** Sends every open batch now and waits until every accepted send has its answer (or error). */
  async flush(): Promise<void> {
    for (const timer of this.lingerTimers.values()) clearTimeout(timer);
    this.lingerTimers.clear();
    this.readyBatches.push(...this.batcher.takeAll());
    this.pump();
    if (this.idle()) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Flushes, then closes the stream. Later sends fail. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    this.link?.end();
    this.link = undefined;
  }

  /** Fails every send not yet answered with CANCELLED and drops the stream, without waiting. */
  abort(): void {
    this.closed = true;
    for (const timer of this.lingerTimers.values()) clearTimeout(timer);
    this.lingerTimers.clear();
    const err = new RaftlineError({ code: status.CANCELLED, message: "the producer was closed without flushing" });
    this.abortError = err;
    this.lanes?.fail(err);
    for (const waiter of this.roomWaiters.splice(0)) waiter.reject(err);
    for (const batch of [...this.readyBatches.splice(0), ...this.batcher.takeAll()]) this.settle(batch, err);
    this.link?.fail(err);
    this.link = undefined;
    this.notifyIdle();
  }

  private hasRoomFor(records: number): boolean {
    return this.bufferedRecords === 0 || this.bufferedRecords + records <= this.limits.maxBufferedRecords;
  }

  private idle(): boolean {
    return this.bufferedRecords === 0 && this.roomWaiters.length === 0 && this.admitting === 0;
  }

  /** Waiting sends keep their order: nobody overtakes a send that is waiting for room. */
  private admitInOrder(records: number, admit: () => void, reject: (err: RaftlineError) => void): void {
    if (this.roomWaiters.length === 0 && this.hasRoomFor(records)) admit();
    else this.roomWaiters.push({ records, admit, reject });
  }

  /** Idempotent sends: each partition's records become a send of their own, answering into the whole. */
  private async choosePartitions(chooser: PartitionChooser, message: ProducerMessage, owner: PendingSend): Promise<void> {
    try {
      if (this.abortError) throw this.abortError;
      const groups: PartitionGroup[] =
        message.partition !== undefined
          ? [{ partition: message.partition, records: message.records, indices: [] }]
          : await chooser.split(message.topic, message.records);
      const parts = groups.map((g) => ({ group: g, owner: groups.length === 1 ? owner : partOf(owner, g.indices) }));
      this.admitInOrder(
        message.records.length,
        () => {
          for (const part of parts) this.accept({ topic: message.topic, partition: part.group.partition, records: part.group.records }, part.owner);
        },
        owner.reject,
      );
    } catch (err) {
      owner.failed = true;
      owner.reject(toRaftlineError(err));
    } finally {
      this.admitting--;
      this.notifyIdle();
    }
  }

  private accept(message: ProducerMessage, owner: PendingSend): void {
    this.bufferedRecords += message.records.length;
    this.readyBatches.push(...this.batcher.add(message.topic, message.partition, message.records, owner));
    this.armLinger(batchKey(message.topic, message.partition));
    this.pump();
  }

  private armLinger(key: string): void {
    const timer = this.lingerTimers.get(key);
    if (this.batcher.has(key) && !timer) {
      this.lingerTimers.set(
        key,
        setTimeout(() => {
          this.lingerTimers.delete(key);
          const batch = this.batcher.take(key);
          if (batch) this.readyBatches.push(batch);
          this.pump();
        }, this.limits.lingerMs),
      );
    } else if (!this.batcher.has(key) && timer) {
      clearTimeout(timer);
      this.lingerTimers.delete(key);
    }
  }

  private pump(): void {
    if (this.lanes) {
      for (const batch of this.readyBatches.splice(0)) this.lanes.add(batch);
      this.lanes.pump();
      return;
    }
    while (this.inFlight < this.limits.maxInFlight && this.readyBatches.length > 0) {
      const batch = this.readyBatches.shift() as RecordBatch<PendingSend>;
      this.inFlight++;
      this.deliver(batch).then(
        (placements) => this.finish(batch, placements),
        (err: unknown) => this.finish(batch, toRaftlineError(err)),
      );
    }
  }

  private deliver(batch: RecordBatch<PendingSend>): Promise<RecordPlacement[]> {
    const wire: ProduceBatch = { topic: batch.topic, records: batch.records.map(toWireRecord) };
    if (batch.partition !== undefined) wire.partition = batch.partition;
    // Once any attempt's outcome is unknown, so is the send's, however a later attempt fails.
    let unknown = false;
    return retry(
      async () => placementsOf(await this.sendOne(wire), batch.records.length),
      this.policy,
      {
        clock: this.runner.clock,
        onError: (err) => {
          unknown ||= err.outcomeUnknown;
          this.runner.pool.noteError(err);
        },
      },
    ).catch((err: unknown) => {
      const e = toRaftlineError(err);
      throw unknown ? e.withOutcomeUnknown() : e;
    });
  }

  /** One attempt: one batch in one request on the leader's stream. */
  private async sendOne(wire: ProduceBatch): Promise<ProduceBatchResult__Output> {
    if (this.abortError) throw this.abortError;
    const link = await this.linkToLeader();
    const results = await link.send([wire], this.limits.acks);
    if (results.length !== 1) {
      throw new RaftlineError({ code: status.INTERNAL, message: `expected one batch result, got ${results.length}` });
    }
    return results[0];
  }

  private finish(batch: RecordBatch<PendingSend>, outcome: RecordPlacement[] | RaftlineError): void {
    this.inFlight--;
    this.settleAndContinue(batch, outcome);
  }

  private settleAndContinue(batch: RecordBatch<PendingSend>, outcome: RecordPlacement[] | RaftlineError): void {
    this.settle(batch, outcome);
    this.admitWaiting();
    this.pump();
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.idle()) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Answers the sends whose records the batch holds. */
  private settle(batch: RecordBatch<PendingSend>, outcome: RecordPlacement[] | RaftlineError): void {
    let index = 0;
    for (const segment of batch.segments) {
      const owner = segment.owner;
      if (outcome instanceof RaftlineError) {
        if (!owner.failed) owner.reject(outcome);
        owner.failed = true;
      } else {
        for (let k = 0; k < segment.count; k++) {
          owner.placements[segment.ownerIndex + k] = { topic: batch.topic, ...outcome[index + k] };
        }
      }
      index += segment.count;
      owner.unsettledRecords -= segment.count;
      if (owner.unsettledRecords === 0 && !owner.failed) owner.resolve(owner.placements);
    }
    this.bufferedRecords -= batch.records.length;
  }

  private admitWaiting(): void {
    while (this.roomWaiters.length > 0 && this.hasRoomFor(this.roomWaiters[0].records)) {
      (this.roomWaiters.shift() as RoomWaiter).admit();
    }
  }

  private async linkToLeader(): Promise<ProduceLink> {
    if (this.runner.pool.leader === undefined) await this.maybeDiscoverLeader();
    const address = this.runner.pool.target(true);
    if (this.link && !this.link.broken && this.link.address === address) return this.link;
    this.link?.end();
    this.link = new ProduceLink(address, this.runner.pool.stubs(address).producer, this.limits.requestTimeoutMs);
    return this.link;
  }

  private maybeDiscoverLeader(): Promise<void> {
    if (this.discovery) return this.discovery;
    const now = this.runner.clock.nowMs();
    if (now - this.lastDiscoveryMs < leaderDiscoveryIntervalMs) return Promise.resolve();
    this.lastDiscoveryMs = now;
    this.discovery = this.discoverLeader()
      .catch(() => undefined)
      .finally(() => {
        this.discovery = undefined;
      });
    return this.discovery;
  }
}

/** The part of a send whose records sit at `indices` of the whole: its answers fill the whole's. */
function partOf(whole: PendingSend, indices: number[]): PendingSend {
  return {
    topic: whole.topic,
    placements: new Array(indices.length),
    unsettledRecords: indices.length,
    failed: false,
    resolve: (placements) => {
      placements.forEach((p, i) => (whole.placements[indices[i]] = p));
      whole.unsettledRecords -= indices.length;
      if (whole.unsettledRecords === 0 && !whole.failed) whole.resolve(whole.placements);
    },
    reject: (err) => {
      if (whole.failed) return;
      whole.failed = true;
      whole.reject(err);
    },
  };
}
