// One partition's in-memory index: per stored batch its base offset, last offset, newest timestamp, size
// and where its bytes are (the raft entry that carried it). Kept in parallel typed-array columns used as
// a deque (appends at the back, retention removes from the front), 48 bytes per batch, so millions of
// batches cost tens of MB, not hundreds.

export interface BatchIndexEntry {
  baseOffset: number;
  lastOffset: number;
  maxTimestampMs: number;
  /** Size of the stored batch blob. */
  bytes: number;
  /** The committed raft entry whose command carries the batch: its bytes are stored there, once. */
  entryIndex: number;
  /** Where the batch starts in that entry's command bytes. */
  entryOffset: number;
}

const initialCapacityBatches = 16;

export class PartitionLog {
  private baseOffsets: Float64Array = new Float64Array(initialCapacityBatches);
  private lastOffsets: Float64Array = new Float64Array(initialCapacityBatches);
  private maxTimestamps: Float64Array = new Float64Array(initialCapacityBatches);
  private sizes: Float64Array = new Float64Array(initialCapacityBatches);
  private entryIndexes: Float64Array = new Float64Array(initialCapacityBatches);
  private entryOffsets: Float64Array = new Float64Array(initialCapacityBatches);
  private head = 0;
  private tail = 0;
  private totalBytes = 0;
  /** Equal to the high watermark while batches exist; kept for an empty log too. */
  private nextOffset = 0;

  /** Rebuilds a log from its stored index; retention may have removed a prefix, so it need not start at 0. */
  static fromEntries(entries: readonly BatchIndexEntry[]): PartitionLog {
    const log = new PartitionLog();
    if (entries.length > 0) log.nextOffset = entries[0].baseOffset;
    for (const entry of entries) log.append(entry);
    return log;
  }

  get batchCount(): number {
    return this.tail - this.head;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** The offset the next record will get: one past the last stored record. */
  get highWatermark(): number {
    return this.nextOffset;
  }

  /** The lowest offset still stored (equal to the high watermark when nothing is stored). */
  get startOffset(): number {
    return this.batchCount > 0 ? this.baseOffsets[this.head] : this.nextOffset;
  }

  /** The i-th batch from the oldest (0-based). */
  entry(i: number): BatchIndexEntry {
    if (i < 0 || i >= this.batchCount) throw new RangeError(`batch ${i} of ${this.batchCount}`);
    const at = this.head + i;
    return {
      baseOffset: this.baseOffsets[at],
      lastOffset: this.lastOffsets[at],
      maxTimestampMs: this.maxTimestamps[at],
      bytes: this.sizes[at],
      entryIndex: this.entryIndexes[at],
      entryOffset: this.entryOffsets[at],
    };
  }

  entries(): BatchIndexEntry[] {
    const out: BatchIndexEntry[] = [];
    for (let i = 0; i < this.batchCount; i++) out.push(this.entry(i));
    return out;
  }

  /** Appends a batch; it must start exactly at the high watermark (offsets are dense). */
  append(entry: BatchIndexEntry): void {
    if (entry.baseOffset !== this.nextOffset || entry.lastOffset < entry.baseOffset) {
      throw new Error(
        `batch [${entry.baseOffset}, ${entry.lastOffset}] does not continue the log at ${this.nextOffset}`,
      );
    }
    if (this.tail === this.baseOffsets.length) this.makeRoom();
    const at = this.tail++;
    this.baseOffsets[at] = entry.baseOffset;
    this.lastOffsets[at] = entry.lastOffset;
    this.maxTimestamps[at] = entry.maxTimestampMs;
    this.sizes[at] = entry.bytes;
    this.entryIndexes[at] = entry.entryIndex;
    this.entryOffsets[at] = entry.entryOffset;
    this.totalBytes += entry.bytes;
    this.nextOffset = entry.lastOffset + 1;
  }

  /** Removes and returns the oldest batch. */
  dropOldest(): BatchIndexEntry {
    const oldest = this.entry(0);
    this.head++;
    this.totalBytes -= oldest.bytes;
    if (this.head === this.tail) this.head = this.tail = 0;
    return oldest;
  }

  /** Position (0-based from the oldest) of the batch holding `offset`, or -1 if none does. */
  find(offset: number): number {
    let lo = this.head;
    let hi = this.tail;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.lastOffsets[mid] < offset) lo = mid + 1;
      else hi = mid;
    }
    if (lo === this.tail || this.baseOffsets[lo] > offset) return -1;
    return lo - this.head;
  }

  /** Reuses the space freed at the front when at least half is free, otherwise doubles. */
  private makeRoom(): void {
    const count = this.batchCount;
    const capacity = this.baseOffsets.length;
    const newCapacity = this.head >= capacity / 2 ? capacity : capacity * 2;
    const move = (column: Float64Array): Float64Array => {
      if (newCapacity === capacity) return column.copyWithin(0, this.head, this.tail);
      const grown = new Float64Array(newCapacity);
      grown.set(column.subarray(this.head, this.tail));
      return grown;
    };
    this.baseOffsets = move(this.baseOffsets);
    this.lastOffsets = move(this.lastOffsets);
    this.maxTimestamps = move(this.maxTimestamps);
    this.sizes = move(this.sizes);
    this.entryIndexes = move(this.entryIndexes);
    this.entryOffsets = move(this.entryOffsets);
    this.head = 0;
    this.tail = count;
  }
}
