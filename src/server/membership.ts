// Membership changes, on the leader: one at a time, each a raft conf change answered once applied here.
// Also promotes learners to voters once they have caught up (unless an operator asked to hold one), and
// records in the log what every node must agree on about a member (broker/member-records.ts): its
// addresses, whether it is held as a learner, and the incarnation admitted for it — always before it
// may vote, so that every node, even one that never met it, refuses a wiped copy under its id.
import * as grpc from "@grpc/grpc-js";
import { CommandKind, type MemberRecord, encodeCommand } from "../broker";
import { ConfChangeType, type ConfState } from "../raft";
import type { StoredMemberAddress } from "../storage/cluster-identity";
import type { NodeContext } from "./node-context";
import { ReplicaError } from "./replica-errors";
import { RpcError } from "./rpc-errors";

/** How far (in entries) a learner's log may trail the leader's for it to become a voter; raft's own bound. */
export const learnerCatchUpEntries = 1000;

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

/** The incarnations this node admitted (peer-admission.ts). */
export interface AdmittedIncarnations {
  incarnationOf(id: number): string | undefined;
}

export class Membership {
  private busy: string | undefined;

  constructor(
    private readonly ctx: NodeContext,
    private readonly admitted: AdmittedIncarnations,
  ) {}

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
      for (const address of [m.clientAddress, m.peerAddress]) {
        const user = this.ctx.addressBook.members.find((x) => x.id !== m.id && this.isMember(x.id) && (x.clientAddress === address || x.peerAddress === address));
        if (user !== undefined) throw exists(`address ${address} belongs to member ${user.id}`);
      }
      if (m.clientAddress === m.peerAddress) throw new RpcError(grpc.status.INVALID_ARGUMENT, "ERROR_REASON_INVALID_FIELD", "client_address and peer_address must differ");
      // A former member's id may come back at new addresses: the record moves it in every node's book.
      await this.record({ id: m.id, incarnation: "", stayLearner, clientAddress: m.clientAddress, peerAddress: m.peerAddress }, deadlineMs);
      await this.ctx.addressBook.place(m);
      return this.change(ConfChangeType.AddLearner, m.id, deadlineMs);
    });
  }

  async removeNode(id: number, deadlineMs: number): Promise<ConfState> {
    return this.exclusive(`removing node ${id}`, async () => {
      this.checkRemovable(id);
      return this.change(ConfChangeType.RemoveVoter, id, deadlineMs);
    });
  }

  /** Removes the member and adds it back as a learner: its next incarnation is admitted, then promoted. */
  async replaceNode(id: number, deadlineMs: number): Promise<ConfState> {
    return this.exclusive(`replacing node ${id}`, async () => {
      this.checkRemovable(id);
      await this.change(ConfChangeType.RemoveVoter, id, deadlineMs);
      // The old incarnation is no longer the one to admit: the next one is recorded once heard from.
      const before = this.ctx.machine.state.member(id);
      await this.record({ ...this.addressesOf(id), stayLearner: before?.stayLearner ?? false, incarnation: "" }, deadlineMs);
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
      const incarnation = this.admitted.incarnationOf(id);
      if (incarnation === undefined) {
        throw new RpcError(grpc.status.FAILED_PRECONDITION, "ERROR_REASON_LEARNER_NOT_CAUGHT_UP", `learner ${id} has not been heard from yet; retry once it has caught up`);
      }
      await this.record({ ...this.addressesOf(id), incarnation, stayLearner: false }, deadlineMs);
      return this.change(ConfChangeType.AddVoter, id, deadlineMs);
    });
  }

  /**
   * On the leader, when idle: records the admitted incarnation of each member whose record has none yet
   * (the founders, a learner once heard from), and a learner's new one (a learner's disk may be replaced;
   * a voter's incarnation changes only through ReplaceNode). Returns the ids recorded.
   */
  async recordIncarnations(deadlineMs: number): Promise<number[]> {
    if (!this.ctx.replica.isLeader || this.busy !== undefined) return [];
    const c = this.conf;
    const due = [...c.voters, ...c.learners].flatMap((id) => {
      const incarnation = this.admitted.incarnationOf(id);
      const recorded = this.ctx.machine.state.member(id);
      if (incarnation === undefined || recorded?.incarnation === incarnation) return [];
      if (recorded !== undefined && recorded.incarnation !== "" && !c.learners.includes(id)) return [];
      return [{ ...this.addressesOf(id), stayLearner: recorded?.stayLearner ?? false, incarnation }];
    });
    if (due.length === 0) return [];
    return this.exclusive("recording member incarnations", async () => {
      for (const m of due) await this.record(m, deadlineMs);
      return due.map((m) => m.id);
    });
  }

  /** On the leader, when idle: promotes one caught-up learner that no one asked to hold. */
  async promoteCaughtUp(deadlineMs: number): Promise<number | undefined> {
    if (!this.ctx.replica.isLeader || this.busy !== undefined) return undefined;
    const held = (id: number): boolean => this.ctx.machine.state.member(id)?.stayLearner === true;
    const ready = this.conf.learners.find((id) => !held(id) && (this.lagOf(id) ?? Infinity) <= learnerCatchUpEntries);
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

  /** The member's record as it stands, or one from the address book. */
  private addressesOf(id: number): Pick<MemberRecord, "id" | "clientAddress" | "peerAddress"> {
    const known = this.ctx.machine.state.member(id) ?? this.ctx.addressBook.get(id);
    return { id, clientAddress: known?.clientAddress ?? "", peerAddress: known?.peerAddress ?? "" };
  }

  /** Writes the member's record through the log; resolves once applied here. */
  private async record(member: MemberRecord, deadlineMs: number): Promise<void> {
    const data = encodeCommand({ kind: CommandKind.PutMember, nowMs: this.ctx.now(), member });
    const outcome = await this.ctx.replica.propose(data, "quorum", deadlineMs);
    if (outcome.result?.kind === "error") throw outcome.result.error;
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
