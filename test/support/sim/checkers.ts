// The safety properties we promise, as pure functions over the cluster's state and the history of what
// was observed. The simulation runs every one of them after every step. Each looks only at the facts of
// the latest step (history.latest) and compares them with the first sighting the history remembers, so
// that checking stays cheap while still covering the whole run.
import { NodeId, RaftConfig, Role } from "../../../src/raft";
import { availabilityCheckers } from "./availability-checkers";
import { History } from "./history";

/** A node's durable log, as it would be found after a crash. */
export interface DurableLogView {
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
  /** The durable hard state's commit index. */
  readonly commit: number;
  lastIndex(): number;
  /** Term of the entry at `index`, the snapshot's term at snapshotIndex, undefined when absent or compacted. */
  termAt(index: number): number | undefined;
}

export interface NodeView {
  readonly id: NodeId;
  readonly up: boolean;
  readonly role: Role;
  readonly term: number;
  readonly log: DurableLogView;
}

export interface ClusterView {
  nodes(): Iterable<NodeView>;
  node(id: NodeId): NodeView | undefined;
  /** The configuration the cluster was meant to run with (the availability checkers depend on it). */
  readonly raft?: Pick<RaftConfig, "preVote" | "checkQuorum" | "electionTicks">;
}

export type CheckerName =
  | "election-safety"
  | "log-matching"
  | "leader-completeness"
  | "state-machine-safety"
  | "committed-durable"
  | "linearizable-reads"
  | "proposal-outcomes"
  | "liveness"
  | "leader-stability"
  | "term-inflation"
  | "transfer-proposals"
  /** The core or the driver threw: a broken contract or an internal assertion. */
  | "exception";

export interface Violation {
  checker: CheckerName;
  message: string;
}

export type Checker = (cluster: ClusterView, history: History) => Violation | undefined;

/** Raft §5.2: at most one leader per term. */
export const electionSafety: Checker = (_cluster, history) => {
  for (const seen of history.latest.leaders) {
    const leaders = history.leadersByTerm.get(seen.term) ?? [];
    if (leaders.length > 1) {
      return violation("election-safety", `term ${seen.term} has two leaders: nodes ${leaders.join(" and ")}`);
    }
  }
  return undefined;
};

/**
 * Raft §5.3: two entries with the same index and term hold the same command, and the logs are identical
 * up to them. Checked inductively: every durable copy of (index, term) must carry the same command and
 * follow the same term at index - 1 as the first copy ever persisted.
 */
export const logMatching: Checker = (_cluster, history) => {
  for (const persisted of history.latest.persisted) {
    for (const e of persisted.entries) {
      const first = history.persistedAt.get(`${e.index}/${e.term}`);
      if (first === undefined) continue;
      if (first.key !== e.key) {
        return violation(
          "log-matching",
          `entry (index ${e.index}, term ${e.term}) differs: node ${first.node} has ${first.key}, node ${persisted.node} has ${e.key}`,
        );
      }
      if (first.prevTerm !== e.prevTerm) {
        return violation(
          "log-matching",
          `entry (index ${e.index}, term ${e.term}) follows term ${first.prevTerm} on node ${first.node} but term ` +
            `${e.prevTerm} on node ${persisted.node}: the logs differ before a matching entry`,
        );
      }
    }
  }
  return undefined;
};

/** Raft §5.4.1: a leader's log holds every entry committed in an earlier term. */
export const leaderCompleteness: Checker = (cluster, history) => {
  for (const node of cluster.nodes()) {
    if (!node.up || node.role !== Role.Leader) continue;
    const needIndex = history.committedBeforeTerm(node.term);
    if (needIndex === 0 || node.log.snapshotIndex > needIndex) continue;
    const committed = history.committedAt.get(needIndex);
    if (committed === undefined) continue;
    const held = node.log.termAt(needIndex);
    if (held !== committed.term) {
      return violation(
        "leader-completeness",
        `leader ${node.id} of term ${node.term} lacks entry (index ${needIndex}, term ${committed.term}) committed in ` +
          `an earlier term; its log has ${held === undefined ? "nothing" : `term ${held}`} there`,
      );
    }
  }
  return undefined;
};

/**
 * Raft §5.4.3: no two nodes commit or apply different entries at one index; each node applies every
 * index exactly once, in order; an installed snapshot equals the state its creator reached by applying.
 */
export const stateMachineSafety: Checker = (_cluster, history) => {
  const latest = history.latest;
  for (const seen of latest.committed) {
    for (const e of seen.entries) {
      const first = history.committedAt.get(e.index);
      if (first !== undefined && first.key !== e.key) {
        return violation(
          "state-machine-safety",
          `index ${e.index} committed as ${first.key} on node ${first.node} but as ${e.key} on node ${seen.node}`,
        );
      }
    }
  }
  for (const a of latest.applied) {
    if (a.index !== a.prevApplied + 1) {
      return violation("state-machine-safety", `node ${a.node} applied index ${a.index} right after ${a.prevApplied}`);
    }
    const first = history.appliedAt.get(a.index);
    if (first !== undefined && (first.key !== a.key || first.digest !== a.digest)) {
      return violation(
        "state-machine-safety",
        `index ${a.index} applied as ${first.key} on node ${first.node} but as ${a.key} on node ${a.node}` +
          (first.key === a.key ? " (same entry, different state after it)" : ""),
      );
    }
  }
  for (const s of latest.snapshotsInstalled) {
    // Index 0 is the bootstrap state: nothing applied yet (the digest of no entries is 0).
    const applied = s.index === 0 ? { digest: 0 } : history.appliedAt.get(s.index);
    const committed = history.committedAt.get(s.index);
    if (applied === undefined || applied.digest !== s.digest || (committed !== undefined && committed.term !== s.term)) {
      return violation(
        "state-machine-safety",
        `node ${s.node} installed a snapshot at (index ${s.index}, term ${s.term}) that matches no applied state there`,
      );
    }
  }
  return undefined;
};

/**
 * Nothing committed is lost, across any crashes: the newest committed entry is on enough voters' disks
 * that every quorum of the current configuration includes one of them (so any future leader has it,
 * §5.4.1), and no node's durable commit index points past its durable log.
 */
export const committedDurable: Checker = (cluster, history) => {
  for (const node of cluster.nodes()) {
    if (node.log.commit > node.log.lastIndex()) {
      return violation(
        "committed-durable",
        `node ${node.id} durably records commit ${node.log.commit} beyond its durable log (last index ${node.log.lastIndex()})`,
      );
    }
  }
  const index = history.maxCommittedIndex;
  const committed = history.committedAt.get(index);
  if (committed === undefined) return undefined;
  const voters = history.conf.voters;
  const holders: NodeId[] = [];
  for (const id of voters) {
    const node = cluster.node(id);
    if (node !== undefined && holdsEntry(node.log, index, committed.term)) holders.push(id);
  }
  const needed = Math.ceil(voters.length / 2);
  if (holders.length < needed) {
    return violation(
      "committed-durable",
      `committed entry (index ${index}, term ${committed.term}) is durable only on [${holders.join(", ")}] of voters ` +
        `[${voters.join(", ")}]; at least ${needed} must hold it so that every quorum does`,
    );
  }
  return undefined;
};

/** A ReadIndex read that completes reflects every write acknowledged before the read began. */
export const linearizableReads: Checker = (_cluster, history) => {
  for (const done of history.latest.readsDone) {
    const read = history.reads.get(done.readId);
    if (read === undefined) continue;
    if (done.appliedIndex < read.ackedIndexBefore) {
      return violation(
        "linearizable-reads",
        `read ${done.readId} on node ${done.node} answered from applied index ${done.appliedIndex}, but write ` +
          `${read.ackedWriteBefore} at index ${read.ackedIndexBefore} was acknowledged before the read began ` +
          `(step ${read.startStep})`,
      );
    }
  }
  return undefined;
};

/** A write whose client was told it is certainly lost is never applied, before or after. */
export const proposalOutcomes: Checker = (_cluster, history) => {
  for (const writeId of history.latest.writesLost) {
    if (history.appliedWrites.has(writeId)) {
      return violation("proposal-outcomes", `write ${writeId} was reported lost to its client but has been applied`);
    }
  }
  for (const a of history.latest.applied) {
    if (a.writeId !== undefined && history.lostWrites.has(a.writeId)) {
      return violation("proposal-outcomes", `node ${a.node} applied write ${a.writeId} at index ${a.index}, which was reported lost`);
    }
  }
  return undefined;
};

export const safetyCheckers: readonly Checker[] = [
  electionSafety,
  logMatching,
  leaderCompleteness,
  stateMachineSafety,
  committedDurable,
  linearizableReads,
  proposalOutcomes,
];

/** Every safety checker, then every availability checker (availability-checkers.ts). */
export function checkSafety(cluster: ClusterView, history: History): Violation | undefined {
  for (const check of safetyCheckers) {
    const found = check(cluster, history);
    if (found !== undefined) return found;
  }
  for (const check of availabilityCheckers) {
    const found = check(cluster, history);
    if (found !== undefined) return found;
  }
  return undefined;
}

function holdsEntry(log: DurableLogView, index: number, term: number): boolean {
  if (log.snapshotIndex > index) return true;
  return log.termAt(index) === term;
}

export function violation(checker: CheckerName, message: string): Violation {
  return { checker, message };
}
