// Membership arithmetic: applying one ConfChange to a ConfState, and checking a proposed change.
// Single-server changes only (Raft thesis §4.1): every majority of the old voter set overlaps every majority of the new one.
import { ConfChange, ConfChangeType, ConfState, NodeId } from "./types";

export function isVoter(conf: ConfState, id: NodeId): boolean {
  return conf.voters.includes(id);
}

export function isLearner(conf: ConfState, id: NodeId): boolean {
  return conf.learners.includes(id);
}

export function cloneConfState(conf: ConfState): ConfState {
  return { voters: [...conf.voters], learners: [...conf.learners] };
}

/** The membership after `cc`. Applying a change that is already in effect changes nothing. */
export function applyChangeTo(conf: ConfState, cc: ConfChange): ConfState {
  const voters = conf.voters.filter((id) => id !== cc.nodeId);
  const learners = conf.learners.filter((id) => id !== cc.nodeId);
  switch (cc.type) {
    case ConfChangeType.AddVoter:
      voters.push(cc.nodeId);
      break;
    case ConfChangeType.AddLearner:
      // A voter is never demoted by AddLearner: the proposal check refuses it.
      if (isVoter(conf, cc.nodeId)) voters.push(cc.nodeId);
      else learners.push(cc.nodeId);
      break;
    case ConfChangeType.RemoveVoter:
      break;
  }
  voters.sort(ascending);
  learners.sort(ascending);
  return { voters, learners };
}

/** Why `cc` may not be proposed against `conf`, or undefined if it may. Catch-up is checked by the leader. */
export function confChangeProblem(conf: ConfState, cc: ConfChange): string | undefined {
  if (!Number.isSafeInteger(cc.nodeId) || cc.nodeId <= 0) return `invalid node id ${cc.nodeId}`;
  switch (cc.type) {
    case ConfChangeType.AddVoter:
      if (isVoter(conf, cc.nodeId)) return `node ${cc.nodeId} is already a voter`;
      return undefined;
    case ConfChangeType.AddLearner:
      if (isVoter(conf, cc.nodeId)) return `node ${cc.nodeId} is a voter; demotion to learner is not supported`;
      if (isLearner(conf, cc.nodeId)) return `node ${cc.nodeId} is already a learner`;
      return undefined;
    case ConfChangeType.RemoveVoter:
      if (isLearner(conf, cc.nodeId)) return undefined;
      if (!isVoter(conf, cc.nodeId)) return `node ${cc.nodeId} is not a member`;
      if (conf.voters.length === 1) return `node ${cc.nodeId} is the last voter`;
      return undefined;
    default:
      return `unknown conf change type ${String(cc.type)}`;
  }
}

function ascending(a: number, b: number): number {
  return a - b;
}
