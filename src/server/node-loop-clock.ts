// The replica loop's clock and fatal stop on a real node: Node's timers, the wall clock, process exit.
import type { Logger } from "pino";
import type { FatalStop, LoopClock } from "./replica-ports";

export const nodeLoopClock: LoopClock = {
  now: Date.now,
  every(periodMs, fn) {
    const timer = setInterval(fn, periodMs);
    return () => clearInterval(timer);
  },
  soon(fn) {
    setImmediate(fn);
  },
};

/** Exit code 70 (EX_SOFTWARE): the supervisor restarts the node, which replays its log from storage. */
export function exitOnFatal(logger: Logger): FatalStop {
  return (err) => {
    logger.fatal({ err }, "replica loop failed; stopping the process to protect the log");
    process.exit(70);
  };
}
