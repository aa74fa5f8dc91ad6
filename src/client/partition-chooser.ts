// Choosing partitions on the client, for idempotent sends: their sequences count per partition, so the
// broker requires the partition to be named. Keys hash exactly as the broker (and Kafka's Java client)
// hash them: toPositive(murmur2(key)) % partitions, see ProduceBatch.partition in producer.proto. Keyless
// records of one send go together to one partition, chosen round-robin per topic, one send at a time.
import { status } from "@grpc/grpc-js";
import { RaftlineError } from "./errors";
import type { ProducerRecord } from "./records";

const murmurSeed = 0x9747b28c;
const murmurM = 0x5bd1e995;
const murmurR = 24;

/** Kafka's Utils.murmur2, bit-exact: a signed 32-bit hash. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (murmurSeed ^ length) | 0;
  const words = length >>> 2;
  for (let i = 0; i < words; i++) {
    const at = i * 4;
    let k = data[at] | (data[at + 1] << 8) | (data[at + 2] << 16) | (data[at + 3] << 24);
    k = Math.imul(k, murmurM);
    k ^= k >>> murmurR;
    k = Math.imul(k, murmurM);
    h = Math.imul(h, murmurM) ^ k;
  }
  const tail = words * 4;
  // The 1..3 tail bytes, as Java's fall-through switch combines them.
  const tailBytes = length & 3;
  if (tailBytes === 3) h ^= data[tail + 2] << 16;
  if (tailBytes >= 2) h ^= data[tail + 1] << 8;
  if (tailBytes >= 1) h = Math.imul(h ^ data[tail], murmurM);
  h ^= h >>> 13;
  h = Math.imul(h, murmurM);
  h ^= h >>> 15;
  return h | 0;
}

export function partitionForKey(key: Uint8Array, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

/** The records of one send that go to one partition, with their indices in the send. */
export interface PartitionGroup {
  partition: number;
  records: ProducerRecord[];
  indices: number[];
}

function keyBytes(key: Uint8Array | string): Uint8Array {
  return typeof key === "string" ? Buffer.from(key, "utf8") : key;
}

/** Splits a send's records by partition, keeping their relative order; groups in first-record order. */
export function groupByPartition(records: readonly ProducerRecord[], partitions: number, keylessPartition: number): PartitionGroup[] {
  const groups = new Map<number, PartitionGroup>();
  records.forEach((record, index) => {
    const partition = record.key === undefined ? keylessPartition : partitionForKey(keyBytes(record.key), partitions);
    let group = groups.get(partition);
    if (!group) {
      group = { partition, records: [], indices: [] };
      groups.set(partition, group);
    }
    group.records.push(record);
    group.indices.push(index);
  });
  return [...groups.values()];
}

/**
 * Partition counts per topic, asked once (DescribeTopic) and remembered, and the keyless round-robin
 * counters. Partitions are never added to a topic, so a remembered count stays right while it lives.
 */
export class PartitionChooser {
  private readonly counts = new Map<string, Promise<number>>();
  private readonly keylessNext = new Map<string, number>();

  constructor(private readonly describePartitions: (topic: string) => Promise<number>) {}

  async split(topic: string, records: readonly ProducerRecord[]): Promise<PartitionGroup[]> {
    const partitions = await this.partitionCount(topic);
    if (!Number.isInteger(partitions) || partitions < 1) {
      throw new RaftlineError({ code: status.INTERNAL, message: `topic "${topic}" was described with ${partitions} partitions` });
    }
    const next = this.keylessNext.get(topic) ?? 0;
    const hasKeyless = records.some((r) => r.key === undefined);
    if (hasKeyless) this.keylessNext.set(topic, (next + 1) % partitions);
    return groupByPartition(records, partitions, next % partitions);
  }

  private partitionCount(topic: string): Promise<number> {
    let count = this.counts.get(topic);
    if (!count) {
      count = this.describePartitions(topic);
      this.counts.set(topic, count);
      // A failed lookup (unknown topic, no leader) is asked again by the next send.
      count.catch(() => this.counts.delete(topic));
    }
    return count;
  }
}
