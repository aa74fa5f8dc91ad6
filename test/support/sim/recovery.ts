// The liveness promise, checked after the chaos: once faults stop, the network heals and a quorum is
// back up (sometimes every node, sometimes a bare majority of the voters), the cluster must elect a leader, acknowledge new writes and resolve every open proposal within
// a bounded number of ticks. A client keeps writing meanwhile, one write at a time — a write of the new
// term is also what tells a node that its proposals from an older term are lost.
import { NodeId, Role } from "../../../src/raft";
import { SimCluster } from "./cluster";
import { calmWeather } from "./network";
import { ProposalFate, ProposalToken } from "./sim-node";
import { Workload } from "./workload";

export type RecoveryState = "healing" | "recovering" | "recovered" | "timed-out";

export class Recovery {
  private healedAtMs: number | undefined;
  private recoveredAtMs: number | undefined;
  /** The client's write in flight; writeId 0 until a leader took it. */
  private probe: { writeId: number; acked: boolean } | undefined;
  private probesAcked = 0;
  private lastRefusal = "";

  constructor(
    private readonly cluster: SimCluster,
    private readonly workload: Workload,
    private readonly boundTicks: number,
    private readonly tickMs: number,
  ) {}

  /** Simulated time from the heal until the cluster recovered. */
  get recoveryMs(): number {
    return this.healedAtMs === undefined || this.recoveredAtMs === undefined ? 0 : this.recoveredAtMs - this.healedAtMs;
  }

  /**
   * Schedules the heal as a step of its own: `stopFaults` ends the nemesis and the other clients; the
   * voters in `keepDown` (a minority) stay down, every other node runs.
   */
  heal(stopFaults: () => void, keepDown: readonly NodeId[]): void {
    const cluster = this.cluster;
    const label = `heal: faults stop, network heals, every node runs${keepDown.length > 0 ? ` but ${keepDown.join(", ")}` : ""}`;
    cluster.schedule(0, label, () => {
      stopFaults();
      cluster.network.healAll();
      cluster.network.weather = calmWeather;
      cluster.network.dropIf = undefined;
      for (const id of keepDown) cluster.crash(id);
      for (const node of cluster.downNodes()) if (!keepDown.includes(node.id)) cluster.restart(node.id);
      this.healedAtMs = cluster.nowMs;
    });
  }

  onProposalResolved(token: ProposalToken, fate: ProposalFate): void {
    if (this.probe === undefined || token.kind !== "write" || token.writeId !== this.probe.writeId) return;
    if (fate === "committed") {
      this.probe.acked = true;
      this.probesAcked++;
    } else {
      this.probe = undefined;
    }
  }

  /** Where recovery stands before the next step; starts the client's next write when it is due. */
  poll(): RecoveryState {
    if (this.healedAtMs === undefined) return "healing";
    const acked = this.probe?.acked === true;
    if (acked && this.openProposals() === 0) {
      this.recoveredAtMs = this.cluster.nowMs;
      return "recovered";
    }
    if (this.cluster.nowMs > this.healedAtMs + this.boundTicks * this.tickMs) return "timed-out";
    if ((this.probe === undefined || acked) && this.leaderSettled()) this.scheduleProbe();
    return "recovering";
  }

  /** Why the cluster did not recover in time. */
  report(): string {
    const cluster = this.cluster;
    const nodes = [...cluster.nodes()]
      .map((n) => `${n.id}:${n.up ? "up" : "down"}/${Role[n.role]}/term ${n.term}/open ${n.pendingProposals}`)
      .join(", ");
    const what =
      cluster.leader() === undefined
        ? "no leader was elected"
        : this.probesAcked > 0
          ? `${this.openProposals()} proposals stayed open while ${this.probesAcked} new writes were acknowledged`
          : `no write was acknowledged${this.lastRefusal === "" ? "" : ` (last refusal: ${this.lastRefusal})`}`;
    return (
      `${what} within ${this.boundTicks} ticks after the network healed with a quorum up ` +
      `(voters [${cluster.history.conf.voters.join(", ")}]; nodes ${nodes})`
    );
  }

  /** A voter leads, and no live node is in a higher term. */
  private leaderSettled(): boolean {
    const leader = this.cluster.leader();
    if (leader === undefined || !this.cluster.history.conf.voters.includes(leader.id)) return false;
    return this.cluster.upNodes().every((node) => node.term <= leader.term);
  }

  private openProposals(): number {
    let open = 0;
    for (const node of this.cluster.upNodes()) open += node.pendingProposals;
    return open;
  }

  /** The client writes once more a tick from now; when no leader takes it, it tries again later. */
  private scheduleProbe(): void {
    const probe = { writeId: 0, acked: false };
    this.probe = probe;
    this.cluster.schedule(this.tickMs, "client write (recovery)", () => {
      const attempt = this.workload.proposeOneAtLeader();
      if (attempt.ok) {
        probe.writeId = attempt.writeId;
      } else {
        this.probe = undefined;
        this.lastRefusal = attempt.reason;
      }
    });
  }
}
