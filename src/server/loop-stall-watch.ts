// Notices when the event loop was held (a long garbage collection, a long synchronous step): meanwhile
// the node sent no heartbeats and read no messages, which is what costs a leader its place, so a held
// loop is logged with how long it lasted.
export interface StallLog {
  warn(fields: object, message: string): void;
}

/** Checks every periodMs; a check late by thresholdMs or more is a stall. Returns the stop function. */
export function watchLoopStalls(log: StallLog, thresholdMs: number, periodMs: number, now: () => number = Date.now): () => void {
  let last = now();
  const timer = setInterval(() => {
    const at = now();
    const lateMs = at - last - periodMs;
    last = at;
    if (lateMs >= thresholdMs) log.warn({ stalledMs: lateMs }, "the event loop was held: no heartbeats were sent and no messages read meanwhile");
  }, periodMs);
  timer.unref();
  return () => clearInterval(timer);
}
