// The nemesis: plays one planned fault against the real cluster — injects it, holds it, heals it — and
// records each step in the history. It only ever signals processes the cluster harness started (by pid)
// and talks to the nodes' own loopback ports.
import { setTimeout as delay } from "node:timers/promises";
import { setPeerIsolated } from "../../src/transport/fault-client";
import type { Admin, RaftlineClient } from "../../src/client";
import type { Cluster } from "../support/cluster";
import type { History } from "./history";
import { MembershipFaults } from "./membership-faults";
import type { FaultRecord } from "./model";
import type { PlannedFault } from "./schedule";

/** How long the nemesis waits for the live nodes to agree on a leader before it picks its target. */
export const leaderDeadlineMs = 20000;
/** Deadline of one isolation switch call. */
export const isolateCallTimeoutMs = 2000;
/** Attempts at switching isolation off again; a node busy catching up may miss the first call. */
const maxHealAttempts = 5;
/** Pause between those attempts. */
const healRetryMs = 200;
/** How long a restarted node gets to serve again. */
export const restartDeadlineMs = 30000;

interface Targets {
  leader: number;
  followers: number[];
}

export class Nemesis {
  private client: RaftlineClient | undefined;
  private readonly membership: MembershipFaults;

  constructor(
    private readonly cluster: Cluster,
    private readonly history: History,
  ) {
    this.membership = new MembershipFaults(cluster, history, () => this.admin());
  }

  /** Injects the fault, holds it for plan.holdMs, heals it. Resolves once it is healed. */
  async play(plan: PlannedFault): Promise<FaultRecord> {
    const targets = await this.targets();
    const follower = targets.followers[Math.floor(plan.pick * targets.followers.length)];
    const details = { holdMs: plan.holdMs, leader: targets.leader };
    switch (plan.kind) {
      case "kill-leader":
        return this.killAndRestart(plan, [targets.leader], false, details);
      case "kill-follower":
        return this.killAndRestart(plan, [follower], false, details);
      case "wipe-follower":
        return this.membership.wipeAndReplace(plan, follower, details);
      case "wipe-node":
        return this.membership.wipeAndReplace(plan, plan.role === "leader" ? targets.leader : follower, details, plan.role);
      case "remove-add-node":
        return this.membership.removeAndAddBack(plan, plan.role === "leader" ? targets.leader : follower, details, plan.role);
      case "restart-all":
        return this.killAndRestart(plan, this.cluster.nodes.map((n) => n.id), false, details);
      case "pause-node": {
        const id = plan.role === "leader" ? targets.leader : follower;
        const fault = this.history.faultInjected(plan.kind, [id], details, plan.role);
        this.cluster.pause(id);
        await delay(plan.holdMs);
        this.cluster.resume(id);
        this.history.faultHealed(fault);
        return fault;
      }
      case "isolate-leader": {
        const id = targets.leader;
        const peer = this.cluster.node(id).peerAddress;
        const fault = this.history.faultInjected(plan.kind, [id], details);
        await setPeerIsolated(peer, true, isolateCallTimeoutMs);
        await delay(plan.holdMs);
        await this.reconnect(peer);
        this.history.faultHealed(fault);
        return fault;
      }
    }
  }

  private async targets(): Promise<Targets> {
    const leader = await this.cluster.waitForLeader(leaderDeadlineMs);
    const followers = this.cluster.nodes.map((n) => n.id).filter((id) => id !== leader);
    return { leader, followers };
  }

  private async killAndRestart(plan: PlannedFault, ids: number[], wipe: boolean, details: Record<string, unknown>): Promise<FaultRecord> {
    const fault = this.history.faultInjected(plan.kind, ids, details);
    await Promise.all(ids.map((id) => this.cluster.kill(id, "SIGKILL")));
    await delay(plan.holdMs);
    await Promise.all(ids.map((id) => this.cluster.restart(id, { wipe, deadlineMs: restartDeadlineMs })));
    this.history.faultHealed(fault);
    return fault;
  }

  private admin(): Admin {
    this.client ??= this.cluster.client({ clientId: "nemesis" });
    return this.client.admin();
  }

  private async reconnect(peer: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await setPeerIsolated(peer, false, isolateCallTimeoutMs);
        return;
      } catch (err) {
        if (attempt >= maxHealAttempts) throw err;
        await delay(healRetryMs);
      }
    }
  }
}
