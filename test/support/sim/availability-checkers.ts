// Availability properties that PreVote, CheckQuorum and leadership transfer promise, as checkers over the
// facts the nodes record (history.latest). Each is stated so that it holds whatever the network does: it
// checks the rule that protects availability at the moment the rule applies, not an outcome that slow or
// duplicated messages could also bring about legitimately.
import { Checker, violation } from "./checkers";

/**
 * A healthy leader is not deposed by a rejoining node (thesis §4.2.3, §9.6). With CheckQuorum, a voter
 * within a leader's lease — it leads, or it heard from the leader of its current term fewer than an
 * election timeout's ticks ago — grants no vote and no pre-vote for a higher term. So while a quorum
 * hears from its leader, no node returning from a partition or a restart can gather the votes to start a
 * new term. Only a transfer that the leader itself started (its TimeoutNow made the candidate campaign)
 * may pass the lease, and only with real votes.
 */
export const leaderStability: Checker = (cluster, history) => {
  if (cluster.raft?.checkQuorum !== true) return undefined;
  for (const g of history.latest.leasedGrants) {
    const transfer = g.kind === "vote" && g.claimsTransfer && history.termStartCauses.get(`${g.candidate}/${g.term}`) === "transfer";
    if (transfer) continue;
    return violation(
      "leader-stability",
      `node ${g.node} granted a ${g.kind} for term ${g.term} to node ${g.candidate} while in the lease of leader ${g.leader}` +
        (g.claimsTransfer ? " (the request claimed a leadership transfer, but no TimeoutNow started that campaign)" : ""),
    );
  }
  return undefined;
};

/**
 * Terms do not inflate under partitions (thesis §9.6). With PreVote, a node starts a new term by an
 * election only after a quorum of its configuration's voters (itself included) granted it a pre-vote
 * for that term; a TimeoutNow from its leader is the one other way. So a node cut off from a quorum
 * keeps its term however long it campaigns, and does not disturb the group when it returns.
 */
export const termStability: Checker = (cluster, history) => {
  if (cluster.raft?.preVote !== true) return undefined;
  for (const s of history.latest.termStarts) {
    if (s.cause === "transfer") continue;
    const votes = s.preVoteGrants.filter((id) => id !== s.node).length + (s.voters.includes(s.node) ? 1 : 0);
    if (votes > s.voters.length / 2) continue;
    return violation(
      "term-inflation",
      `node ${s.node} started term ${s.term} with pre-votes from only [${s.preVoteGrants.join(", ")}] besides its own, ` +
        `short of a quorum of voters [${s.voters.join(", ")}]`,
    );
  }
  return undefined;
};

/**
 * No proposal is accepted during a leadership transfer (thesis §3.10): from the moment a leader accepts
 * a transfer until it ends — the leader steps down, the transfer is abandoned after an election timeout,
 * or the transferee leaves the configuration — the leader refuses writes and membership changes, so the
 * transferee can catch up and take over.
 */
export const transferFreeze: Checker = (cluster, history) => {
  const electionTicks = cluster.raft?.electionTicks;
  if (electionTicks === undefined) return undefined;
  for (const p of history.latest.proposalsDuringTransfer) {
    if (p.ticksSinceTransfer >= electionTicks || !p.transfereeIsVoter) continue;
    return violation(
      "transfer-proposals",
      `leader ${p.node} of term ${p.term} accepted a proposal at index ${p.index} ${p.ticksSinceTransfer} ticks after it ` +
        `accepted a transfer to node ${p.transferee}`,
    );
  }
  return undefined;
};

export const availabilityCheckers: readonly Checker[] = [leaderStability, termStability, transferFreeze];
