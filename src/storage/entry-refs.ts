// Which raft entries still hold stored record batches. A committed produce entry is the partition's copy
// of its batches (the batch index points into the entry), so log compaction keeps such an entry, and the
// entry goes when retention or topic deletion removes the last batch it holds.
//
// Memory stays small for any amount of stored data: entries still in the log (bounded by compaction) are
// counted in full; a compacted entry only when it holds two or more batches. A compacted entry with one
// batch needs no record: removing that batch deletes it.
import type { BatchOps } from "./db";
import { entryKey } from "./keys";

export class EntryRefs {
  /** Entries past the compaction point that hold stored batches: how many each. */
  private readonly inLog = new Map<number, number>();
  /** Compacted entries that hold two or more stored batches: how many each. */
  private readonly shared = new Map<number, number>();
  private compactedThrough = 0;

  /** Rebuilds from the stored batch index (one entry index per stored batch) and the log's start. */
  reset(entryIndexes: Iterable<number>, compactedThrough: number): void {
    this.inLog.clear();
    this.shared.clear();
    this.compactedThrough = compactedThrough;
    // Sorted in a typed array (8 bytes per stored batch, briefly) rather than counted in a map: a node
    // may hold millions of batches, almost all alone in their entry.
    const sorted = Float64Array.from(entryIndexes).sort();
    for (let i = 0; i < sorted.length; ) {
      const index = sorted[i];
      let count = 0;
      while (i < sorted.length && sorted[i] === index) {
        count++;
        i++;
      }
      if (index > compactedThrough) this.inLog.set(index, count);
      else if (count > 1) this.shared.set(index, count);
    }
  }

  /** A batch carried by entry `index` is now stored (the entry is being applied). */
  hold(index: number): void {
    if (index <= this.compactedThrough) throw new Error(`entry ${index} is applied after the compaction point ${this.compactedThrough}`);
    this.inLog.set(index, (this.inLog.get(index) ?? 0) + 1);
  }

  /** A batch carried by entry `index` is removed; a compacted entry left holding nothing is deleted in `batch`. */
  release(batch: BatchOps, index: number): void {
    if (index > this.compactedThrough) {
      const count = this.inLog.get(index);
      if (count === undefined) throw new Error(`entry ${index} holds no stored batch`);
      if (count === 1) this.inLog.delete(index);
      else this.inLog.set(index, count - 1);
      return;
    }
    const count = this.shared.get(index);
    if (count === undefined) batch.del(entryKey(index));
    else if (count === 2) this.shared.delete(index);
    else this.shared.set(index, count - 1);
  }

  /**
   * Log compaction moves past entry `index` (call for each, in order): true when the entry holds stored
   * batches and its key must stay.
   */
  compactKeeps(index: number): boolean {
    this.compactedThrough = index;
    const count = this.inLog.get(index);
    if (count === undefined) return false;
    this.inLog.delete(index);
    if (count > 1) this.shared.set(index, count);
    return true;
  }

  /** True when compacted entry `index` holds more than one stored batch (a snapshot carries it once). */
  isShared(index: number): boolean {
    return this.shared.has(index);
  }
}
