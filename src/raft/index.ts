// The public surface of the consensus core.
export * from "./types";
export { RawNode } from "./raw-node";
export { encodeConfChange, decodeConfChange } from "./conf-change-codec";
export { ProposalTracker, ProposalOutcome, ResolvedProposal } from "./proposal-tracker";
