// Checks a RaftConfig once, at construction, so that a bad bound fails loudly instead of stalling later.
import { RaftConfig } from "./types";

export function validateRaftConfig(cfg: RaftConfig): void {
  const positive: [string, number][] = [
    ["id", cfg.id],
    ["electionTicks", cfg.electionTicks],
    ["heartbeatTicks", cfg.heartbeatTicks],
    ["maxMsgBytes", cfg.maxMsgBytes],
    ["maxInflightMsgs", cfg.maxInflightMsgs],
    ["maxUncommittedBytes", cfg.maxUncommittedBytes],
  ];
  for (const [name, value] of positive) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`raft config: ${name} must be a positive integer, got ${value}`);
  }
  if (cfg.heartbeatTicks >= cfg.electionTicks) {
    throw new RangeError(`raft config: heartbeatTicks (${cfg.heartbeatTicks}) must be below electionTicks (${cfg.electionTicks})`);
  }
  if (!Number.isSafeInteger(cfg.learnerCatchUpEntries) || cfg.learnerCatchUpEntries < 0) {
    throw new RangeError(`raft config: learnerCatchUpEntries must be a non-negative integer, got ${cfg.learnerCatchUpEntries}`);
  }
}
