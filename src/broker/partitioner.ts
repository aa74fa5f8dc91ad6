// Choosing a partition when the producer leaves it unset, the way Kafka's default partitioner does, so
// that a key lands on the same partition number here as in Kafka: toPositive(murmur2(key)) % partitions.
// Records without a key go to one partition per batch, rotating round-robin per topic ("sticky").

const murmurSeed = 0x9747b28c;
const murmurM = 0x5bd1e995;
const murmurR = 24;

/** Kafka's Utils.murmur2, bit-exact: a signed 32-bit hash. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (murmurSeed ^ length) | 0;
  const fullWords = length >>> 2;
  for (let i = 0; i < fullWords; i++) {
    const at = i * 4;
    let k = data[at] | (data[at + 1] << 8) | (data[at + 2] << 16) | (data[at + 3] << 24);
    k = Math.imul(k, murmurM);
    k ^= k >>> murmurR;
    k = Math.imul(k, murmurM);
    h = Math.imul(h, murmurM);
    h ^= k;
  }
  const tail = length & ~3;
  // The 1..3 tail bytes, combined as Java's fall-through switch does.
  const tailBytes = length & 3;
  if (tailBytes === 3) h ^= data[tail + 2] << 16;
  if (tailBytes >= 2) h ^= data[tail + 1] << 8;
  if (tailBytes >= 1) {
    h ^= data[tail];
    h = Math.imul(h, murmurM);
  }
  h ^= h >>> 13;
  h = Math.imul(h, murmurM);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's Utils.toPositive: clears the sign bit (not Math.abs, which differs for negative values). */
export function toPositive(hash: number): number {
  return hash & 0x7fffffff;
}

export function partitionForKey(key: Uint8Array, partitions: number): number {
  return toPositive(murmur2(key)) % partitions;
}

/**
 * The round-robin counter for keyless batches, one per topic so topics produced to alternately do not
 * keep landing on the same partitions. Leader-local and not replicated: the chosen partition is written
 * into the command, which is all that must be deterministic.
 */
export class StickyPartitioner {
  private readonly nextByTopic = new Map<string, number>();

  /** `maxTrackedTopics` bounds the counters kept; beyond it they restart from 0 (only balance suffers). */
  constructor(private readonly maxTrackedTopics = 10_000) {}

  /** The partition for the next keyless batch of `topic`, advancing the topic's counter once. */
  next(topic: string, partitions: number): number {
    const counter = this.nextByTopic.get(topic) ?? 0;
    if (!this.nextByTopic.has(topic) && this.nextByTopic.size >= this.maxTrackedTopics) {
      this.nextByTopic.clear();
    }
    this.nextByTopic.set(topic, counter + 1);
    return counter % partitions;
  }
}

export interface PartitionSplit<R> {
  partition: number;
  records: R[];
  /** Indices into the original batch of `records`, in order. */
  recordIndices: number[];
}

/**
 * Splits a batch whose partition was left unset: keyed records by murmur2, keyless ones all to
 * `keylessPartition`. Relative order is kept within each partition; the result is ordered by partition.
 */
export function splitByPartition<R extends { key?: Uint8Array | null }>(
  records: readonly R[],
  partitions: number,
  keylessPartition: number,
): PartitionSplit<R>[] {
  const byPartition = new Map<number, PartitionSplit<R>>();
  records.forEach((record, index) => {
    const partition = record.key ? partitionForKey(record.key, partitions) : keylessPartition;
    let split = byPartition.get(partition);
    if (!split) {
      split = { partition, records: [], recordIndices: [] };
      byPartition.set(partition, split);
    }
    split.records.push(record);
    split.recordIndices.push(index);
  });
  return [...byPartition.values()].sort((a, b) => a.partition - b.partition);
}
