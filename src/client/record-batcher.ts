// Collects produced records into batches per topic-partition, bounded in records and bytes. Pure: the
// producer decides when a batch leaves (full, linger expired, flush); this only knows what goes together.
import { ProducerRecord, recordBytes } from "./records";

export interface BatchLimits {
  maxBatchRecords: number;
  /** A single record larger than this still travels, alone in its batch. */
  maxBatchBytes: number;
}

/** A run of consecutive records of one send() inside a batch. */
export interface BatchSegment<Owner> {
  owner: Owner;
  /** Index in the owner's records of this run's first record. */
  ownerIndex: number;
  count: number;
}

export interface RecordBatch<Owner> {
  key: string;
  topic: string;
  /** Undefined lets the server choose per record (by key, or sticky round-robin). */
  partition: number | undefined;
  records: ProducerRecord[];
  bytes: number;
  /** In batch order; their counts add up to records.length. */
  segments: BatchSegment<Owner>[];
}

export function batchKey(topic: string, partition: number | undefined): string {
  return `${partition ?? "any"}/${topic}`;
}

export class RecordBatcher<Owner> {
  private readonly open = new Map<string, RecordBatch<Owner>>();

  constructor(private readonly limits: BatchLimits) {
    if (!Number.isInteger(limits.maxBatchRecords) || limits.maxBatchRecords < 1) {
      throw new RangeError("maxBatchRecords must be an integer >= 1");
    }
    if (!(limits.maxBatchBytes >= 1)) throw new RangeError("maxBatchBytes must be >= 1");
  }

  /**
   * Appends one send's records, in order, to its topic-partition's open batch. Returns the batches that
   * filled up on the way (ready to go); what is left stays open.
   */
  add(topic: string, partition: number | undefined, records: readonly ProducerRecord[], owner: Owner): RecordBatch<Owner>[] {
    const key = batchKey(topic, partition);
    const ready: RecordBatch<Owner>[] = [];
    let batch = this.open.get(key) ?? this.empty(key, topic, partition);
    records.forEach((record, ownerIndex) => {
      const size = recordBytes(record);
      if (batch.records.length > 0 && batch.bytes + size > this.limits.maxBatchBytes) {
        ready.push(batch);
        batch = this.empty(key, topic, partition);
      }
      batch.records.push(record);
      batch.bytes += size;
      const last = batch.segments[batch.segments.length - 1];
      if (last && last.owner === owner && last.ownerIndex + last.count === ownerIndex) last.count++;
      else batch.segments.push({ owner, ownerIndex, count: 1 });
      if (batch.records.length >= this.limits.maxBatchRecords || batch.bytes >= this.limits.maxBatchBytes) {
        ready.push(batch);
        batch = this.empty(key, topic, partition);
      }
    });
    if (batch.records.length > 0) this.open.set(key, batch);
    else this.open.delete(key);
    return ready;
  }

  has(key: string): boolean {
    return this.open.has(key);
  }

  /** Removes and returns the open batch for `key`, e.g. when its linger time is up. */
  take(key: string): RecordBatch<Owner> | undefined {
    const batch = this.open.get(key);
    this.open.delete(key);
    return batch;
  }

  takeAll(): RecordBatch<Owner>[] {
    const all = [...this.open.values()];
    this.open.clear();
    return all;
  }

  get openCount(): number {
    return this.open.size;
  }

  private empty(key: string, topic: string, partition: number | undefined): RecordBatch<Owner> {
    return { key, topic, partition, records: [], bytes: 0, segments: [] };
  }
}
