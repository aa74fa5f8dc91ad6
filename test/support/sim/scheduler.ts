// The simulated clock: a queue of events ordered by due time (ties broken by insertion order, so that a
// run replays exactly). Time only moves when the next event is taken.

interface Scheduled<T> {
  atMs: number;
  seq: number;
  event: T;
}

/** Bound on events waiting at once; more means a message storm, reported as a failure of the run. */
const maxPendingEvents = 1_000_000;

export class Scheduler<T> {
  private heap: Scheduled<T>[] = [];
  private seq = 0;
  nowMs = 0;

  at(atMs: number, event: T): void {
    this.push({ atMs: Math.max(atMs, this.nowMs), seq: this.seq++, event });
  }

  after(delayMs: number, event: T): void {
    this.at(this.nowMs + delayMs, event);
  }

  /** Takes the earliest event and advances the clock to it. */
  next(): T | undefined {
    const top = this.heap[0];
    if (top === undefined) return undefined;
    const last = this.heap.pop() as Scheduled<T>;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
    this.nowMs = top.atMs;
    return top.event;
  }

  private push(item: Scheduled<T>): void {
    const heap = this.heap;
    if (heap.length >= maxPendingEvents) throw new Error(`more than ${maxPendingEvents} events pending: a message storm`);
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < heap.length && before(heap[left], heap[least])) least = left;
      if (right < heap.length && before(heap[right], heap[least])) least = right;
      if (least === i) return;
      [heap[i], heap[least]] = [heap[least], heap[i]];
      i = least;
    }
  }
}

function before<T>(a: Scheduled<T>, b: Scheduled<T>): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}
