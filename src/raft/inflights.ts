// The window of App messages sent to one follower and not yet acknowledged. A ring buffer of each
// message's last index, bounded by maxInflightMsgs so that a slow follower costs a fixed amount of memory.
export class Inflights {
  private readonly lastIndexes: Float64Array;
  private start = 0;
  private used = 0;

  constructor(readonly capacityMsgs: number) {
    if (!Number.isInteger(capacityMsgs) || capacityMsgs < 1) {
      throw new RangeError(`maxInflightMsgs must be a positive integer, got ${capacityMsgs}`);
    }
    this.lastIndexes = new Float64Array(capacityMsgs);
  }

  get count(): number {
    return this.used;
  }

  full(): boolean {
    return this.used === this.capacityMsgs;
  }

  /** Records a sent App message whose last entry is `lastIndex` (indexes must grow). */
  add(lastIndex: number): void {
    if (this.full()) throw new Error("inflights: add to a full window");
    this.lastIndexes[(this.start + this.used) % this.capacityMsgs] = lastIndex;
    this.used++;
  }

  /** The follower acknowledged up to `index`: every message ending at or below it is done. */
  freeLE(index: number): void {
    while (this.used > 0 && this.lastIndexes[this.start] <= index) {
      this.start = (this.start + 1) % this.capacityMsgs;
      this.used--;
    }
  }

  /** Frees the oldest slot: lets a full window probe onward when its acknowledgements may have been lost. */
  freeFirstOne(): void {
    if (this.used === 0) return;
    this.start = (this.start + 1) % this.capacityMsgs;
    this.used--;
  }

  reset(): void {
    this.start = 0;
    this.used = 0;
  }
}
