// Membership changes, on the leader: one at a time, each a raft conf change answered once applied here.
// Also promotes learners to voters once they have caught up (unless an operator asked to hold one).
import * as grpc from "@grpc/grpc-js";
import { ConfChangeType, type ConfState } from "../raft";
import type { StoredMemberAddress } from "../storage/cluster-identity";
import type { NodeContext } from "./node-context";
import { defaultReplicaBounds } from "./replica-bounds";
import { ReplicaError } from "./replica-errors";
import { RpcError } from "./rpc-errors";

/** How far (in entries) a learner's log may trail the leader's for it to become a voter; raft's own bound. */
export const learnerCatchUpEntries = defaultReplicaBounds.learnerCatchUpEntries;

export function unknownNode(id: number, what = "a member"): RpcError {
  return new RpcError(grpc.status.NOT_FOUND, "ERROR_REASON_UNKNOWN_NODE", `node ${id} is not ${what} of the cluster`);
}

function inFlight(detail: string): RpcError {
  return new RpcError(grpc.status.ABORTED, "ERROR_REASON_MEMBERSHIP_CHANGE_IN_PROGRESS", `${detail}; retry once it has completed`);
}

/** Raft's own refusals of a conf change, as the documented statuses. */
export function confRefusal(err: unknown): unknown {
  if (!(err instanceof ReplicaError) || err.code !== "REJECTED") return err;
  if (err.message.includes("in flight")) return inFlight(err.message);
  if (err.message.includes("not caught up")) return new RpcError(grpc.status.FAILED_PRECONDITION, "ERROR_REASON_LEARNER_NOT_CAUGHT_UP", err.message);
  if (err.message.includes("last voter")) return new RpcError(grpc.status.FAILED_PRECONDITION, "ERROR_REASON_LAST_VOTER", err.message);
  return err;
}

export class Membership {
  private busy: string | undefined;
  /** Learners an operator asked to keep as learners (AddNode stay_learner), as known to this leader. */
  private readonly held = new Set<number>();

  constructor(private readonly ctx: NodeContext) {}

  get conf(): ConfState {
    return this.ctx.replica.membership;
  }

  isMember(id: number): boolean {
    const c = this.conf;
    return c.voters.includes(id) || c.learners.includes(id);
  }

  async addNode(m: StoredMemberAddress, stayLearner: boolean, deadlineMs: number): Promise<ConfState> {
    return this.exclusive(`adding node ${m.id}`, async () => {
      if (this.isMember(m.id)) throw exists(`node ${m.id} is already a member`);
      const known = this.ctx.addressBook.get(m.id);
      if (known !== undefined && (known.clientAddress !== m.clientAddress || known.peerAddress !== m.peerAddress)) {
        throw exists(`node id ${m.id} was used before at ${known.clientAddress},${known.peerAddress}: add it there, or use a new id`);
      }
      for (const address of [m.clientAddress, m.peerAddress]) {
        const user = this.ctx.addressBook.members.find((x) => x.id !== m.id && this.isMember(x.id) && (x.clientAddress === address || x.peerAddress === address));
        if (user !== undefined) throw exists(`address ${address} belongs to member ${user.id}`);
      }
      if (m.clientAddress === m.peerAddress) throw new RpcError(grpc.status.INVALID_ARGUMENT, "ERROR_REASON_INVALID_FIELD", "client_address and peer_address must differ");
      await this.ctx.addressBook.learn(m);
      if (stayLearner) this.held.add(m.id);
      return this.change(ConfChangeType.AddLearner, m.id, deadlineMs);
    });
  }

  async removeNode(id: number, deadlineMs: number): Promise<ConfState> {
    return this.exclusive(`removing node ${id}`, async () => {
      this.checkRemovable(id);
      this.held.delete(id);
      return this.change(ConfChangeType.RemoveVoter, id, deadlineMs);
    });
  }

  /** Removes the member and adds it back as a learner: its next incarnation is admitted, then promoted. */
  async replaceNode(id: number, deadlineMs: number): Promise<ConfState> {
    return this.exclusive(`replacing node ${id}`, async () => {
      this.checkRemovable(id);
      await this.change(ConfChangeType.RemoveVoter, id, deadlineMs);
      return this.change(ConfChangeType.AddLearner, id, deadlineMs);
    });
  }

  async promoteLearner(id: number, deadlineMs: number): Promise<ConfState> {
    return this.exclusive(`promoting node ${id}`, async () => {
      if (!this.conf.learners.includes(id)) throw unknownNode(id, "a learner");
      const lag = this.lagOf(id);
      if (lag === undefined || lag > learnerCatchUpEntries) {
        throw new RpcError(
          grpc.status.FAILED_PRECONDITION,
          "ERROR_REASON_LEARNER_NOT_CAUGHT_UP",
          `learner ${id} trails the leader by ${lag ?? "an unknown number of"} entries (at most ${learnerCatchUpEntries} allowed); retry once it has caught up`,
        );
      }
      this.held.delete(id);
      return this.change(ConfChangeType.AddVoter, id, deadlineMs);
    });
  }

  /** On the leader, when idle: promotes one caught-up learner that no one asked to hold. */
  async promoteCaughtUp(deadlineMs: number): Promise<number | undefined> {
    if (!this.ctx.replica.isLeader || this.busy !== undefined) return undefined;
    const ready = this.conf.learners.find((id) => !this.held.has(id) && (this.lagOf(id) ?? Infinity) <= learnerCatchUpEntries);
    if (ready === undefined) return undefined;
    await this.promoteLearner(ready, deadlineMs);
    this.ctx.logger.info({ node: ready }, "promoted a caught-up learner to voter");
    return ready;
  }

  /** Entries the node's log trails the leader's last index by, as the leader tracks it. */
  private lagOf(id: number): number | undefined {
    const status = this.ctx.replica.raftNode.status();
    const p = status.progress.find((x) => x.id === id);
    return p === undefined || p.match === 0 ? undefined : Math.max(0, status.lastIndex - p.match);
  }

  private checkRemovable(id: number): void {
    const c = this.conf;
    if (!this.isMember(id)) throw unknownNode(id);
    if (c.voters.length === 1 && c.voters[0] === id) {
      throw new RpcError(grpc.status.FAILED_PRECONDITION, "ERROR_REASON_LAST_VOTER", `node ${id} is the only voter: the cluster would have none`);
    }
  }

  private async change(type: ConfChangeType, id: number, deadlineMs: number): Promise<ConfState> {
    try {
      return await this.ctx.replica.changeMembership({ type, nodeId: id }, deadlineMs);
    } catch (err) {
      throw confRefusal(err);
    }
  }

  private async exclusive<T>(what: string, run: () => Promise<T>): Promise<T> {
    if (this.busy !== undefined) throw inFlight(`another membership change is in flight (${this.busy})`);
    this.busy = what;
    try {
      return await run();
    } finally {
      this.busy = undefined;
    }
  }
}

function exists(message: string): RpcError {
  return new RpcError(grpc.status.ALREADY_EXISTS, "ERROR_REASON_NODE_EXISTS", message);
}
