// Hand-made cluster states for testing the checkers without running a core: logs given as lists of
// terms, nodes given their role and term.
import { NodeId, Role } from "../../../src/raft";
import { ClusterView, DurableLogView, NodeView } from "./checkers";

export class FabricatedLog implements DurableLogView {
  /** `terms[k]` is the term of the entry at index snapshotIndex + 1 + k. */
  constructor(
    readonly terms: number[],
    readonly commit = 0,
    readonly snapshotIndex = 0,
    readonly snapshotTerm = 0,
  ) {}

  lastIndex(): number {
    return this.snapshotIndex + this.terms.length;
  }

  termAt(index: number): number | undefined {
    if (index === this.snapshotIndex) return this.snapshotTerm;
    if (index < this.snapshotIndex) return undefined;
    return this.terms[index - this.snapshotIndex - 1];
  }
}

export function fabricatedNode(id: NodeId, log: DurableLogView, role = Role.Follower, term = 0, up = true): NodeView {
  return { id, up, role, term, log };
}

export function fabricatedCluster(nodes: NodeView[]): ClusterView {
  return {
    nodes: () => nodes,
    node: (id) => nodes.find((n) => n.id === id),
  };
}
