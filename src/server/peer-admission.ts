// The node's peer gate: admits peers of its own cluster under the incarnation the log recorded for them
// (broker/member-records.ts; the leader records it before a member may vote), or, before any record, the
// one this node first saw them with (remembered on disk before their first message is acted upon). A
// voter that comes back under another incarnation lost the disk that held its vote, and is refused — by
// every node that applied the record, whether or not it ever met the old incarnation. Its new incarnation gets in only once it
// is no longer that voter: when this node has applied its removal (the incarnation is forgotten then), or
// sees it as a learner or non-member (neither votes), or when the claimant has applied further than this
// node (it went through membership changes, its replacement among them, that this node is yet to apply:
// a wiped node restarted under its old id starts from nothing and is refused everywhere, so it never does).
import type { Logger } from "pino";
import type { ConfState } from "../raft";
import type { NodeIdentity } from "../storage/cluster-identity";
import type { PeerClaim, PeerGate, Refusal } from "../transport/peer-gate";

export interface AdmissionStore {
  save(id: number, incarnation: string): Promise<void>;
  forget(id: number): Promise<void>;
}

export interface AdmissionView {
  /** Whether `id` votes, in this node's applied membership. */
  isVoter(id: number): boolean;
  /** Whether `id` is a voter or a learner, in this node's applied membership. */
  isMember(id: number): boolean;
  /** This node's applied index. */
  applied(): number;
  /** The incarnation the log recorded for `id`, as far as this node applied it; undefined or "" if none. */
  recorded(id: number): string | undefined;
}

export class PeerAdmission implements PeerGate {
  private readonly identity: NodeIdentity;
  /** One decision per peer at a time, so that two streams opening together agree. */
  private readonly deciding = new Map<number, Promise<Refusal | undefined>>();
  private readonly reportedRefusals = new Map<number, string>();
  private removedListener: ((why: string) => void) | undefined;

  constructor(
    identity: NodeIdentity,
    private readonly known: Map<number, string>,
    private readonly store: AdmissionStore,
    private readonly logger: Logger,
    private readonly view: AdmissionView,
  ) {
    this.identity = identity;
  }

  self(): PeerClaim {
    const { clusterId, nodeId, incarnation } = this.identity;
    return { clusterId, nodeId, incarnation, applied: this.view.applied() };
  }

  admit(claim: PeerClaim): Promise<Refusal | undefined> {
    const previous = this.deciding.get(claim.nodeId) ?? Promise.resolve(undefined);
    const next = previous.catch(() => undefined).then(() => this.decide(claim));
    this.deciding.set(claim.nodeId, next);
    void next.finally(() => {
      if (this.deciding.get(claim.nodeId) === next) this.deciding.delete(claim.nodeId);
    });
    return next;
  }

  /** Membership changed: a node that left may come back only as a new member, under any incarnation. */
  async membershipApplied(conf: ConfState): Promise<void> {
    for (const id of [...this.known.keys()]) {
      if (conf.voters.includes(id) || conf.learners.includes(id)) continue;
      this.known.delete(id);
      await this.store.forget(id);
    }
  }

  incarnationOf(id: number): string | undefined {
    return id === this.identity.nodeId ? this.identity.incarnation : this.known.get(id);
  }

  /** Called when a peer says this very incarnation was removed from the cluster. */
  onRemoved(listener: (why: string) => void): void {
    this.removedListener = listener;
  }

  /**
   * The link retries with backoff: a peer that has not yet applied this node's replacement admits it
   * once it has. Each distinct refusal is logged once per peer.
   */
  refused(peer: number, refusal: Refusal): void {
    if (refusal.kind === "removed") this.removedListener?.(refusal.message);
    if (this.reportedRefusals.get(peer) === refusal.message) return;
    this.reportedRefusals.set(peer, refusal.message);
    this.logger.error({ peer, reason: refusal.message }, "peer refused this node");
  }

  private async decide(claim: PeerClaim): Promise<Refusal | undefined> {
    const self = this.identity;
    if (claim.clusterId !== self.clusterId) {
      return {
        kind: "cluster",
        message:
          `node ${claim.nodeId} belongs to cluster ${claim.clusterId}, node ${self.nodeId} to cluster ${self.clusterId}: ` +
          `a data directory from another cluster, or a peer address pointing at another cluster`,
      };
    }
    if (claim.nodeId === self.nodeId) {
      return { kind: "incarnation", message: `node id ${claim.nodeId} is already taken by the node at this address` };
    }
    const seen = this.known.get(claim.nodeId);
    const recorded = this.view.recorded(claim.nodeId) || undefined;
    // The log records an incarnation only while its node is a member: a non-member still claiming it
    // was removed since (a former member comes back only as a new incarnation, or after AddNode).
    if (recorded === claim.incarnation && !this.view.isMember(claim.nodeId)) {
      return {
        kind: "removed",
        message: `node ${claim.nodeId} (incarnation ${claim.incarnation}) was removed from cluster ${self.clusterId}`,
      };
    }
    const known = recorded ?? seen;
    if (known === claim.incarnation && seen === known) return undefined;
    if (known !== undefined && known !== claim.incarnation && this.view.isVoter(claim.nodeId) && claim.applied <= this.view.applied()) {
      return {
        kind: "incarnation",
        message:
          `cluster ${self.clusterId} knows node ${claim.nodeId} as incarnation ${known}, but it came back as ${claim.incarnation}: ` +
          `its data directory was lost or replaced, and it must not vote under its old identity. ` +
          `Make it a new member instead: raftline cluster replace-node --id ${claim.nodeId}`,
      };
    }
    await this.store.save(claim.nodeId, claim.incarnation);
    this.known.set(claim.nodeId, claim.incarnation);
    this.logger.info({ peer: claim.nodeId, incarnation: claim.incarnation, previous: seen, peerApplied: claim.applied }, "admitted a peer incarnation");
    return undefined;
  }
}
