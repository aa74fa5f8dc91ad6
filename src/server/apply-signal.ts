/** A call that may be cancelled while it waits (a grpc-js server call is one). */
export interface Abortable {
  once(event: "cancelled", fn: () => void): unknown;
  off(event: "cancelled", fn: () => void): unknown;
}

// Wakes long polls and subscriptions when the replica applies (and has written) new entries. One set of
// resolvers instead of one event listener per waiter, so thousands of idle readers cost little.
export class ApplySignal {
  private waiters = new Set<() => void>();

  notify(): void {
    const ws = this.waiters;
    this.waiters = new Set();
    for (const w of ws) w();
  }

  /** Resolves at the next notify, at `untilMs`, or when `abort` fires — whichever comes first. */
  next(untilMs: number, now: number, abort?: Abortable): Promise<void> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.waiters.delete(finish);
        abort?.off("cancelled", finish);
        resolve();
      };
      const timer = setTimeout(finish, Math.max(0, Math.min(untilMs - now, 2 ** 31 - 1)));
      this.waiters.add(finish);
      abort?.once("cancelled", finish);
    });
  }
}
