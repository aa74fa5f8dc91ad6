// The operator: moves leadership around and changes membership one server at a time — remove a voter,
// add a voter, add learners (up to a few at once) and later promote them — keeping the voter count
// between the initial size and one more (so even counts occur too). A removed node is shut down (disk and all) a little after the change is applied; a new node
// starts with an empty disk before the change that adds it is proposed.
import { ConfChange, ConfChangeType, NodeId } from "../../../src/raft";
import { SimCluster } from "./cluster";
import { OperatorRates } from "./profile";
import { ProposalFate, ProposalToken, SimNode } from "./sim-node";

/** How long a removed node keeps running, so that it may learn of its removal first. */
const decommissionDelayMs = 300;

export class Operator {
  private running = false;
  /** The one membership change in flight, if any. */
  private pending: { change: ConfChange; provisioned: boolean } | undefined;
  /** Removed nodes, shut down (or about to be) for good. */
  readonly removed = new Set<NodeId>();
  changesCommitted = 0;

  constructor(
    private readonly cluster: SimCluster,
    private readonly rates: OperatorRates,
    private readonly baseVoterCount: number,
  ) {}

  start(): void {
    this.running = true;
    this.scheduleTransfer();
    this.scheduleMembership();
  }

  stop(): void {
    this.running = false;
  }

  onProposalResolved(token: ProposalToken, fate: ProposalFate): void {
    if (token.kind !== "conf" || this.pending === undefined || token.change !== this.pending.change) return;
    if (fate === "committed") this.changesCommitted++;
    // A certainly lost addition leaves its fresh node idle: shut it down. An unknown outcome may still
    // have added it, so it keeps running.
    if (fate === "lost" && this.pending.provisioned) this.cluster.decommission(this.pending.change.nodeId);
    this.pending = undefined;
  }

  onConfChangeApplied(cc: ConfChange): void {
    if (cc.type !== ConfChangeType.RemoveVoter || this.removed.has(cc.nodeId)) return;
    this.removed.add(cc.nodeId);
    this.cluster.schedule(decommissionDelayMs, `decommission ${cc.nodeId}`, () => this.cluster.decommission(cc.nodeId));
  }

  private scheduleTransfer(): void {
    this.cluster.schedule(this.cluster.prng.waitMs(this.rates.transferMeanIntervalMs), "transfer leadership", () => {
      if (!this.running) return;
      this.transfer();
      this.scheduleTransfer();
    });
  }

  private scheduleMembership(): void {
    this.cluster.schedule(this.cluster.prng.waitMs(this.rates.membershipMeanIntervalMs), "change membership", () => {
      if (!this.running) return;
      if (this.pending === undefined) this.changeMembership();
      this.scheduleMembership();
    });
  }

  private transfer(): void {
    const leader = this.cluster.leader();
    if (leader === undefined) return;
    const others = this.cluster.history.conf.voters.filter((id) => id !== leader.id);
    if (others.length === 0) return;
    const to = this.cluster.prng.pick(others);
    this.cluster.note(`transfer leadership ${leader.id}->${to}`);
    leader.transferLeadership(to);
  }

  private changeMembership(): void {
    const leader = this.cluster.leader();
    if (leader === undefined) return;
    const prng = this.cluster.prng;
    const { voters, learners } = this.cluster.history.conf;
    const addAnotherLearner = learners.length < this.rates.maxLearners && prng.chance(0.5);
    if (learners.length > 0 && addAnotherLearner) {
      this.propose(leader, { type: ConfChangeType.AddLearner, nodeId: this.cluster.provisionNode().id }, true);
    } else if (learners.length > 0) {
      this.propose(leader, { type: ConfChangeType.AddVoter, nodeId: prng.pick(learners) }, false);
    } else if (voters.length > this.baseVoterCount) {
      this.propose(leader, { type: ConfChangeType.RemoveVoter, nodeId: prng.pick(voters) }, false);
    } else {
      const type = prng.chance(0.5) ? ConfChangeType.AddLearner : ConfChangeType.AddVoter;
      const fresh = this.cluster.provisionNode();
      this.propose(leader, { type, nodeId: fresh.id }, true);
    }
  }

  private propose(leader: SimNode, change: ConfChange, provisioned: boolean): void {
    const result = leader.proposeConfChange(change);
    this.cluster.note(`propose ${ConfChangeType[change.type]} ${change.nodeId} at ${leader.id}: ${result.ok ? "ok" : result.code}`);
    if (result.ok) {
      this.pending = { change, provisioned };
    } else if (provisioned) {
      this.cluster.decommission(change.nodeId);
    }
  }
}
