// What the in-process Replica tests share: a loop clock that stands still and ticks only when the test
// says, and the raft settings of node 1 with ten-tick elections and no PreVote or CheckQuorum.
import type { LoopClock } from "../../src/server/replica-ports";

export const node1RaftConfig = { id: 1, electionTicks: 10, heartbeatTicks: 1, preVote: false, checkQuorum: false, maxMsgBytes: 1 << 20, maxInflightMsgs: 256, maxUncommittedBytes: 1 << 30, learnerCatchUpEntries: 100 };

/** `tick()` runs the loop's tick once (nothing before the replica has started). */
export function manualLoopClock(nowMs: number): { clock: LoopClock; tick(): void } {
  let onTick: () => void = () => undefined;
  const clock: LoopClock = {
    now: () => nowMs,
    every: (_periodMs, fn) => {
      onTick = fn;
      return () => undefined;
    },
    soon: (fn) => setImmediate(fn),
  };
  return { clock, tick: () => onTick() };
}
