// The typed refusals a proposal, read or transfer can get.
import { NodeId, ProposalErrorCode, ProposeResult } from "./types";

export function refuse(code: ProposalErrorCode, leader: NodeId, message: string): ProposeResult {
  return { ok: false, code, leader, message };
}

export function notLeader(leader: NodeId, message = "not the leader"): ProposeResult {
  return refuse(ProposalErrorCode.NotLeader, leader, message);
}
