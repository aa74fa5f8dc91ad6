// The idempotent producers: their ids and epochs, and per partition the last few batches each appended
// (sequences, record count, a fingerprint of the records), which is what lets apply recognize a resent
// batch (answering with the original offsets) and refuse a batch that skips sequences or reuses them
// for other records. Pure and deterministic like the rest of the state machine: time
// is the command's `nowMs`, expiry the command's setting, and every decision depends only on the state,
// never on the order of a Map (a restored node iterates differently than one that ran all along).
import type { ProducerStamp } from "./commands";
import { BrokerError, invalidField } from "./errors";
import type {
  BrokerMutation,
  CachedBatch,
  ProducerPartitionKey,
  ProducerPartitionRecord,
  ProducerRecord,
} from "./mutations";

/** Batches remembered per producer and partition: a resent batch older than these is out of order. */
export const maxCachedBatchesPerPartition = 5;
/** How long a producer may stay idle before it is forgotten, unless the Tick says otherwise. */
export const defaultProducerExpiryMs = 7 * 24 * 60 * 60 * 1000;
/** Live producer ids the cluster holds at most; InitProducer beyond it waits for expiries. */
export const maxProducers = 100_000;
/** Bound on producers one Tick removes, so one apply writes a bounded batch; the rest waits. */
export const maxProducerExpiriesPerTick = 1_000;
/** Epochs and sequences are proto int32 values. */
export const maxProducerEpoch = 0x7fff_ffff;
export const maxSequence = 0x7fff_ffff;
const sequenceModulus = maxSequence + 1;
const firstProducerId = 1;

/** Everything restore needs, as storage loads it. */
export interface LoadedProducers {
  nextProducerId: number;
  producers: ProducerRecord[];
  partitions: ProducerPartitionRecord[];
}

/** One batch of a Produce command as the sequence rules see it; `stamp` is absent for a plain batch. */
export interface SequencedBatch {
  stamp: ProducerStamp | undefined;
  topic: string;
  topicId: number;
  partition: number;
  recordCount: number;
  /** batchFingerprint() of its records; used only when `stamp` is set. */
  fingerprint: number;
}

/** What apply does with one batch: append it, or answer it with the offsets its original got. */
export type BatchDecision = { kind: "append" } | { kind: "duplicate"; baseOffset: number };

interface ProducerEntry {
  record: ProducerRecord;
  /** By partitionKey(); may hold states of an older epoch, which count as empty. */
  partitions: Map<string, ProducerPartitionRecord>;
}

function partitionKey(topicId: number, partition: number): string {
  return `${topicId}/${partition}`;
}

/** The sequence after a batch's last record; sequences wrap to 0 after maxSequence. */
function nextSequence(batch: CachedBatch): number {
  return (batch.baseSequence + batch.recordCount) % sequenceModulus;
}

function unknownProducer(producerId: number): BrokerError {
  return new BrokerError(
    "FAILED_PRECONDITION",
    "ERROR_REASON_UNKNOWN_PRODUCER_ID",
    `producer id ${producerId} is unknown or expired; call InitProducer for a new one`,
  );
}

/**
 * A batch with an appended batch's sequence and record count but other records: not a resend. Answering
 * it as a duplicate would acknowledge records never stored (kafkajs 2.x numbers the batch after a send
 * whose outcome it does not know from that send's sequence), so it is refused and nothing is written.
 */
function sequenceReused(stamp: ProducerStamp, batch: SequencedBatch, appended: CachedBatch): BrokerError {
  return new BrokerError(
    "FAILED_PRECONDITION",
    "ERROR_REASON_SEQUENCE_REUSED",
    `producer ${stamp.producerId} on "${batch.topic}" partition ${batch.partition}: base_sequence ${stamp.baseSequence} ` +
      `was already appended at offset ${appended.baseOffset} with other records; this batch is not a resend of it`,
  );
}

/** Throws INVALID_ARGUMENT for a stamp outside the proto's ranges (the server checks before proposing). */
export function validateStamp(stamp: ProducerStamp): void {
  if (!Number.isSafeInteger(stamp.producerId) || stamp.producerId < firstProducerId) {
    throw invalidField(`producer_id must be a positive integer, got ${stamp.producerId}`);
  }
  if (!Number.isInteger(stamp.epoch) || stamp.epoch < 0 || stamp.epoch > maxProducerEpoch) {
    throw invalidField(`producer_epoch must be in 0..${maxProducerEpoch}, got ${stamp.epoch}`);
  }
  if (!Number.isInteger(stamp.baseSequence) || stamp.baseSequence < 0 || stamp.baseSequence > maxSequence) {
    throw invalidField(`base_sequence must be in 0..${maxSequence}, got ${stamp.baseSequence}`);
  }
}

export class ProducerTable {
  private readonly producers = new Map<number, ProducerEntry>();
  private nextId = firstProducerId;

  static restore(loaded: LoadedProducers | undefined): ProducerTable {
    const table = new ProducerTable();
    if (!loaded) return table;
    table.nextId = loaded.nextProducerId;
    for (const record of loaded.producers) {
      if (record.id >= loaded.nextProducerId) throw new Error(`stored producer id ${record.id} >= next id ${loaded.nextProducerId}`);
      table.producers.set(record.id, { record: { ...record }, partitions: new Map() });
    }
    for (const state of loaded.partitions) {
      const entry = table.producers.get(state.producerId);
      if (!entry) throw new Error(`stored sequence state for unknown producer ${state.producerId}`);
      entry.partitions.set(partitionKey(state.topicId, state.partition), { ...state, batches: [...state.batches] });
    }
    return table;
  }

  get size(): number {
    return this.producers.size;
  }

  producer(producerId: number): ProducerRecord | undefined {
    const entry = this.producers.get(producerId);
    return entry ? { ...entry.record } : undefined;
  }

  /** The producer's sequence state on a partition in its current epoch, if it appended there. */
  partitionState(producerId: number, topicId: number, partition: number): ProducerPartitionRecord | undefined {
    const entry = this.producers.get(producerId);
    const state = entry?.partitions.get(partitionKey(topicId, partition));
    return state && state.epoch === entry?.record.epoch ? { ...state, batches: [...state.batches] } : undefined;
  }

  /** A new producer id (requestedId 0) or the next epoch of an existing one. Throws BrokerError. */
  init(requestedId: number, nowMs: number): { producer: ProducerRecord; mutations: BrokerMutation[] } {
    if (!Number.isSafeInteger(requestedId) || requestedId < 0) {
      throw invalidField(`producer_id must be 0 or a producer id, got ${requestedId}`);
    }
    if (requestedId === 0) return this.allocate(nowMs, []);
    const entry = this.producers.get(requestedId);
    if (!entry) throw unknownProducer(requestedId);
    if (entry.record.epoch === maxProducerEpoch) {
      // Epochs are exhausted: forget this id (which fences its holders) and start a new one.
      const removal = this.remove(entry);
      return this.allocate(nowMs, [removal]);
    }
    entry.record = { ...entry.record, epoch: entry.record.epoch + 1, lastActiveMs: nowMs };
    return { producer: { ...entry.record }, mutations: [{ kind: "putProducer", producer: { ...entry.record } }] };
  }

  /**
   * Decides every batch of one Produce command, in order, without changing anything; throws the
   * BrokerError that refuses the whole command. Plain batches are always appended; they are passed in
   * too because they move the offsets that later duplicates in the same command would report.
   */
  decide(batches: readonly SequencedBatch[], highWatermark: (topicId: number, partition: number) => number): BatchDecision[] {
    // What this command appended so far, on top of the stored state: next offsets and sequence states.
    const nextOffsets = new Map<string, number>();
    const pending = new Map<string, CachedBatch[]>();
    return batches.map((batch) => {
      const where = partitionKey(batch.topicId, batch.partition);
      const baseOffset = nextOffsets.get(where) ?? highWatermark(batch.topicId, batch.partition);
      const stamp = batch.stamp;
      if (stamp) {
        const stateKey = `${stamp.producerId}@${where}`;
        const stored = this.cachedBatches(stamp, batch);
        const cached = pending.get(stateKey) ?? stored;
        const duplicate = cached.find((c) => c.baseSequence === stamp.baseSequence && c.recordCount === batch.recordCount);
        if (duplicate) {
          if (duplicate.fingerprint !== undefined && duplicate.fingerprint !== batch.fingerprint) throw sequenceReused(stamp, batch, duplicate);
          return { kind: "duplicate", baseOffset: duplicate.baseOffset };
        }
        const expected = cached.length === 0 ? 0 : nextSequence(cached[cached.length - 1]);
        if (stamp.baseSequence !== expected) {
          throw new BrokerError(
            "FAILED_PRECONDITION",
            "ERROR_REASON_OUT_OF_ORDER_SEQUENCE",
            `producer ${stamp.producerId} on "${batch.topic}" partition ${batch.partition}: base_sequence ` +
              `${stamp.baseSequence} is out of order, expected ${expected}`,
          );
        }
        pending.set(stateKey, [...cached, { baseSequence: expected, recordCount: batch.recordCount, baseOffset, fingerprint: batch.fingerprint }]);
      }
      nextOffsets.set(where, baseOffset + batch.recordCount);
      return { kind: "append" };
    });
  }

  /** Remembers an appended idempotent batch; decide() approved it. */
  recordAppend(stamp: ProducerStamp, topicId: number, partition: number, appended: CachedBatch): BrokerMutation {
    const entry = this.producers.get(stamp.producerId);
    if (!entry || entry.record.epoch !== stamp.epoch) throw new Error(`recordAppend for an unapproved batch of producer ${stamp.producerId}`);
    const key = partitionKey(topicId, partition);
    const previous = entry.partitions.get(key);
    const batches = previous && previous.epoch === entry.record.epoch ? [...previous.batches, appended] : [appended];
    const state: ProducerPartitionRecord = {
      producerId: stamp.producerId,
      topicId,
      partition,
      epoch: entry.record.epoch,
      batches: batches.slice(-maxCachedBatchesPerPartition),
    };
    entry.partitions.set(key, state);
    return { kind: "putProducerPartition", state: { ...state, batches: [...state.batches] } };
  }

  /** Marks producers active as of `nowMs` (expiry counts from the last activity). */
  touch(producerIds: Iterable<number>, nowMs: number): BrokerMutation[] {
    const mutations: BrokerMutation[] = [];
    for (const id of producerIds) {
      const entry = this.producers.get(id);
      if (!entry) continue;
      entry.record = { ...entry.record, lastActiveMs: nowMs };
      mutations.push({ kind: "putProducer", producer: { ...entry.record } });
    }
    return mutations;
  }

  /** Forgets producers idle for more than `expiryMs` as of `nowMs`, lowest ids first, within a budget. */
  expire(nowMs: number, expiryMs: number): BrokerMutation[] {
    const expired = [...this.producers.values()]
      .filter((entry) => nowMs - entry.record.lastActiveMs > expiryMs)
      .sort((a, b) => a.record.id - b.record.id)
      .slice(0, maxProducerExpiriesPerTick);
    return expired.map((entry) => this.remove(entry));
  }

  /** The stored batches the stamp's sequence continues; throws when the producer may not append. */
  private cachedBatches(stamp: ProducerStamp, batch: SequencedBatch): CachedBatch[] {
    validateStamp(stamp);
    const entry = this.producers.get(stamp.producerId);
    if (!entry) throw unknownProducer(stamp.producerId);
    if (stamp.epoch < entry.record.epoch) {
      throw new BrokerError(
        "FAILED_PRECONDITION",
        "ERROR_REASON_PRODUCER_FENCED",
        `producer ${stamp.producerId} epoch ${stamp.epoch} is fenced: epoch ${entry.record.epoch} was initialized since`,
      );
    }
    if (stamp.epoch > entry.record.epoch) {
      throw invalidField(`producer_epoch ${stamp.epoch} was never issued for producer ${stamp.producerId} (current ${entry.record.epoch})`);
    }
    const state = entry.partitions.get(partitionKey(batch.topicId, batch.partition));
    return state && state.epoch === entry.record.epoch ? state.batches : [];
  }

  private allocate(nowMs: number, mutations: BrokerMutation[]): { producer: ProducerRecord; mutations: BrokerMutation[] } {
    if (this.producers.size >= maxProducers) {
      throw new BrokerError(
        "RESOURCE_EXHAUSTED",
        "ERROR_REASON_TOO_MANY_PRODUCERS",
        `the cluster holds its maximum of ${maxProducers} live producer ids; retry after idle ones expire`,
      );
    }
    const record: ProducerRecord = { id: this.nextId++, epoch: 0, lastActiveMs: nowMs };
    this.producers.set(record.id, { record, partitions: new Map() });
    mutations.push({ kind: "putProducer", producer: { ...record } }, { kind: "putNextProducerId", nextProducerId: this.nextId });
    return { producer: { ...record }, mutations };
  }

  private remove(entry: ProducerEntry): BrokerMutation {
    this.producers.delete(entry.record.id);
    const partitions: ProducerPartitionKey[] = [...entry.partitions.values()]
      .map((s) => ({ topicId: s.topicId, partition: s.partition }))
      .sort((a, b) => a.topicId - b.topicId || a.partition - b.partition);
    return { kind: "removeProducer", producerId: entry.record.id, partitions };
  }
}
