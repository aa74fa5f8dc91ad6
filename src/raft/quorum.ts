// Majority arithmetic over the voters (Raft §5.2 elections, §5.3–5.4 commitment).
import { NodeId } from "./types";

export type VoteResult = "won" | "lost" | "pending";

export function majority(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/**
 * The highest index replicated on a majority of `voters`, given each voter's match index.
 * `scratch` is reused between calls so that counting does not allocate.
 */
export function quorumMatchIndex(voters: readonly NodeId[], matchOf: (id: NodeId) => number, scratch: number[]): number {
  if (voters.length === 0) return 0;
  scratch.length = voters.length;
  // Insertion sort, descending: voter sets are small, and this runs on every acknowledgement.
  for (let k = 0; k < voters.length; k++) {
    const match = matchOf(voters[k]);
    let j = k;
    while (j > 0 && scratch[j - 1] < match) {
      scratch[j] = scratch[j - 1];
      j--;
    }
    scratch[j] = match;
  }
  return scratch[majority(voters.length) - 1];
}

export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  const needed = majority(voters.length);
  if (granted >= needed) return "won";
  if (voters.length - rejected < needed) return "lost";
  return "pending";
}
