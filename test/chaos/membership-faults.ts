// The nemesis's membership faults: a member removed under load (the leader included, which hands over
// first) and added back as a new member with an empty disk; and any node, leader or not, wiped and given
// its slot back by ReplaceNode. Each change goes through the admin API with the SDK's retries; a retry
// whose first attempt was applied is refused as already done (UNKNOWN_NODE, NODE_EXISTS), which counts as
// done here.
import { setTimeout as delay } from "node:timers/promises";
import { type Admin, RaftlineError } from "../../src/client";
import type { Cluster } from "../support/cluster";
import { waitFor } from "../support/wait";
import type { History } from "./history";
import type { FaultRecord } from "./model";
import type { PlannedFault } from "./schedule";

/**
 * How long one membership step (a removal, an addition, a promotion) may take under faults. A rejoined
 * node catching up to a vote took 20-30 s on a loaded two-core machine.
 */
export const membershipStepDeadlineMs = 60000;
/** How long a restarted or rejoining node gets to serve. */
const serveDeadlineMs = 30000;
/** Between attempts at a membership step. */
const stepRetryMs = 200;

/** Runs `change` until it succeeds, or is refused with `doneReason` (an earlier attempt was applied). */
async function settle(what: string, change: () => Promise<unknown>, doneReason: RaftlineError["reason"]): Promise<void> {
  await waitFor(
    () =>
      change().then(
        () => true,
        (err: unknown) => {
          if (err instanceof RaftlineError && err.reason === doneReason) return true;
          throw err;
        },
      ),
    membershipStepDeadlineMs,
    what,
    stepRetryMs,
  );
}

async function waitVoter(admin: Admin, id: number): Promise<void> {
  await waitFor(
    async () => (await admin.describeCluster()).nodes.some((n) => n.id === id && n.voter),
    membershipStepDeadlineMs,
    `node ${id} to vote again`,
    stepRetryMs,
  );
}

export class MembershipFaults {
  constructor(
    private readonly cluster: Cluster,
    private readonly history: History,
    private readonly admin: () => Admin,
  ) {}

  /**
   * SIGKILL, an empty data directory, a restart under the old id: the node's peers refuse its new
   * incarnation as a voter until ReplaceNode gives it the slot again; healed once it votes again.
   */
  async wipeAndReplace(plan: PlannedFault, id: number, details: Record<string, unknown>, role?: FaultRecord["role"]): Promise<FaultRecord> {
    const fault = this.history.faultInjected(plan.kind, [id], details, role);
    await this.cluster.kill(id, "SIGKILL");
    await delay(plan.holdMs);
    await this.cluster.restart(id, { wipe: true, deadlineMs: serveDeadlineMs });
    const admin = this.admin();
    await waitFor(() => admin.replaceNode(id).then(() => true), membershipStepDeadlineMs, `node ${id} to be replaced`, stepRetryMs);
    await waitVoter(admin, id);
    this.history.faultHealed(fault);
    return fault;
  }

  /**
   * RemoveNode under load; the removed node is stopped and the cluster runs one voter short for the hold
   * time; then the node starts again with an empty directory (`serve --join`, same id and addresses) and
   * AddNode takes it back: a learner first, a voter once caught up. Healed once it votes.
   */
  async removeAndAddBack(plan: PlannedFault, id: number, details: Record<string, unknown>, role: FaultRecord["role"]): Promise<FaultRecord> {
    const fault = this.history.faultInjected(plan.kind, [id], details, role);
    const admin = this.admin();
    const node = this.cluster.node(id);
    await settle(`node ${id} to be removed`, () => admin.removeNode(id), "ERROR_REASON_UNKNOWN_NODE");
    this.history.note("member-removed", { node: id });
    await this.cluster.stop(id);
    await delay(plan.holdMs);
    const via = this.cluster.nodes.find((n) => n.id !== id && n.running && !n.paused);
    if (!via) throw new Error(`no running member to join node ${id} through`);
    await this.cluster.rejoin(id, via.clientAddress, serveDeadlineMs);
    const member = { nodeId: id, clientAddress: node.clientAddress, peerAddress: node.peerAddress };
    await settle(`node ${id} to be added`, () => admin.addNode(member), "ERROR_REASON_NODE_EXISTS");
    this.history.note("member-added", { node: id });
    await waitVoter(admin, id);
    this.history.faultHealed(fault);
    return fault;
  }
}
