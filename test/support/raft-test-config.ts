// The raft configuration unit tests give a RawNode they drive by hand: PreVote and CheckQuorum on, small
// election timeout, generous message and inflight bounds.
import type { RaftConfig } from "../../src/raft";

export function raftTestConfig(id: number): RaftConfig {
  return {
    id,
    electionTicks: 10,
    heartbeatTicks: 1,
    preVote: true,
    checkQuorum: true,
    maxMsgBytes: 1024 * 1024,
    maxInflightMsgs: 256,
    maxUncommittedBytes: 1024 * 1024,
    learnerCatchUpEntries: 10,
  };
}
