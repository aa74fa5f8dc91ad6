// Each member's view of itself (role, term, indexes), gathered from this node: its own at once, the
// others' over the peers' client ports with a short deadline. A member that does not answer in time is
// marked unreachable. Used by DescribeCluster and the dashboard, which both must work through any node.
import type { DescribeClusterResponse__Output } from "../generated/raftline/v1/DescribeClusterResponse";
import type { NodeInfo } from "../generated/raftline/v1/NodeInfo";
import { Role } from "../raft";
import type { NodeContext } from "./node-context";
import { callUnary } from "./services/rpc";

/** How long this node waits for a peer's own view. */
export const peerStatusTimeoutMs = 500;

const roleNames: Record<Role, NodeInfo["role"]> = {
  [Role.Follower]: "NODE_ROLE_FOLLOWER",
  [Role.PreCandidate]: "NODE_ROLE_PRE_CANDIDATE",
  [Role.Candidate]: "NODE_ROLE_CANDIDATE",
  [Role.Leader]: "NODE_ROLE_LEADER",
};

export function selfInfo(ctx: NodeContext): NodeInfo {
  const s = ctx.replica.raftNode.status();
  const learner = s.conf.learners.includes(ctx.config.id);
  return {
    id: ctx.config.id,
    address: ctx.clientAddressOf(ctx.config.id) ?? "",
    reachable: true,
    role: learner ? "NODE_ROLE_LEARNER" : roleNames[s.role],
    term: s.term,
    commitIndex: s.commit,
    appliedIndex: ctx.replica.appliedIndex,
    httpAddress: ctx.httpAddress() ?? "",
    voter: s.conf.voters.includes(ctx.config.id),
    peerAddress: ctx.addressBook.get(ctx.config.id)?.peerAddress ?? "",
    storageDamage: ctx.damage.status,
  };
}

/**
 * Every member's own view, ordered by id. On the leader each carries its lag (entries behind the leader's
 * last index); elsewhere lag is left unset.
 */
export async function memberViews(ctx: NodeContext): Promise<NodeInfo[]> {
  const status = ctx.replica.raftNode.status();
  const leading = ctx.replica.isLeader;
  const progress = new Map(status.progress.map((p) => [p.id, p]));
  const lagOf = (id: number): number | undefined => {
    const p = progress.get(id);
    return leading && p ? Math.max(0, status.lastIndex - p.match) : undefined;
  };
  // The members as this node's applied membership has them (a joiner not yet added knows none but itself).
  const ids = [...status.conf.voters, ...status.conf.learners].filter((id) => id !== ctx.config.id);
  const peers = ids.map((id) => ctx.addressBook.get(id) ?? { id, clientAddress: "", peerAddress: "" });
  const views = await Promise.all(
    peers.map(async (m): Promise<NodeInfo> => {
      const lag = lagOf(m.id);
      try {
        const c = ctx.forwarder.admin(m.id);
        const deadline = new Date(ctx.now() + peerStatusTimeoutMs);
        const res = await callUnary<DescribeClusterResponse__Output>((cb) => c.DescribeCluster({}, ctx.forwarder.metadata(), { deadline }, cb));
        const own = res.nodes.find((n) => n.id === m.id);
        if (!own) throw new Error("no self view");
        return { ...own, lag, voter: status.conf.voters.includes(m.id), peerAddress: m.peerAddress };
      } catch {
        return {
          id: m.id,
          address: m.clientAddress,
          reachable: false,
          role: "NODE_ROLE_UNSPECIFIED",
          term: 0,
          commitIndex: 0,
          appliedIndex: 0,
          lag,
          voter: status.conf.voters.includes(m.id),
          peerAddress: m.peerAddress,
        };
      }
    }),
  );
  const self = leading ? { ...selfInfo(ctx), lag: 0 } : selfInfo(ctx);
  return [self, ...views].sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
}
