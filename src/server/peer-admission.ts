// The node's peer gate: admits peers of its own cluster under the incarnation it first saw them with
// (remembered on disk before their first message is acted upon). A voter that comes back under another
// incarnation lost the disk that held its vote, and is refused; a learner or a node outside the
// membership casts no vote, so its new incarnation is simply taken. That is how a replaced node (removed,
// then added again as a learner) gets in, while the same node restarted empty as a voter never does.
import type { Logger } from "pino";
import type { NodeIdentity } from "../storage/cluster-identity";
import type { PeerClaim, PeerGate, Refusal } from "../transport/peer-gate";

export interface AdmissionStore {
  save(id: number, incarnation: string): Promise<void>;
}

export class PeerAdmission implements PeerGate {
  readonly self: PeerClaim;
  /** One decision per peer at a time, so that two streams opening together agree. */
  private readonly deciding = new Map<number, Promise<Refusal | undefined>>();
  private readonly reportedRefusals = new Map<number, string>();

  constructor(
    identity: NodeIdentity,
    private readonly known: Map<number, string>,
    private readonly store: AdmissionStore,
    private readonly logger: Logger,
    /** Whether `id` votes, in this node's applied membership. */
    private readonly isVoter: (id: number) => boolean,
  ) {
    this.self = { clusterId: identity.clusterId, nodeId: identity.nodeId, incarnation: identity.incarnation };
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

  incarnationOf(id: number): string | undefined {
    return id === this.self.nodeId ? this.self.incarnation : this.known.get(id);
  }

  /**
   * The link retries with backoff: a peer that has not yet applied this node's replacement admits it
   * once it has. Each distinct refusal is logged once per peer.
   */
  refused(peer: number, refusal: Refusal): void {
    if (this.reportedRefusals.get(peer) === refusal.message) return;
    this.reportedRefusals.set(peer, refusal.message);
    this.logger.error({ peer, reason: refusal.message }, "peer refused this node");
  }

  private async decide(claim: PeerClaim): Promise<Refusal | undefined> {
    const self = this.self;
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
    const known = this.known.get(claim.nodeId);
    if (known === claim.incarnation) return undefined;
    if (known !== undefined && this.isVoter(claim.nodeId)) {
      return {
        kind: "incarnation",
        message:
          `cluster ${self.clusterId} knows node ${claim.nodeId} as incarnation ${known}, but it came back as ${claim.incarnation}: ` +
          `its data directory was lost or replaced, and it must not vote under its old identity. ` +
          `Make it a new member instead: raftline cluster replace-node ${claim.nodeId}`,
      };
    }
    await this.store.save(claim.nodeId, claim.incarnation);
    this.known.set(claim.nodeId, claim.incarnation);
    this.logger.info({ peer: claim.nodeId, incarnation: claim.incarnation, previous: known }, "admitted a peer incarnation");
    return undefined;
  }
}
