// Building messages with every field set, so that the driver and the simulation can copy them verbatim.
import { Message, MessageType, NodeId } from "./types";

/** Vote context of a campaign started by TimeoutNow: voters skip the leader-lease check for it. */
export const campaignTransferContext = "campaign-transfer";

export function newMessage(type: MessageType, from: NodeId, to: NodeId, term: number): Message {
  return {
    type,
    from,
    to,
    term,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    rejectHintTerm: 0,
  };
}

export function isVoteRequest(type: MessageType): boolean {
  return type === MessageType.Vote || type === MessageType.PreVote;
}

export function voteResponseType(type: MessageType): MessageType {
  return type === MessageType.PreVote ? MessageType.PreVoteResp : MessageType.VoteResp;
}
