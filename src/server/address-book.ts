// Where each member is reached: the bootstrap members from the configuration, plus every member added
// since (learned from AddNode on the leader, or from a peer's book over the raft links), kept on disk.
// A peer's book only adds ids this node does not know; an id moves to new addresses only by the log's
// member record (AddNode of a former member at new addresses), which every node applies in order.
import type { Logger } from "pino";
import type { StoredMemberAddress } from "../storage/cluster-identity";
import type { PeerDirectory } from "../transport/peer-directory";
import type { ClusterMember } from "./config";

export class AddressBook implements PeerDirectory {
  private versionNow = 0;

  constructor(
    /** Shared with the forwarder, which looks members up in it: appended to, or an entry's addresses changed. */
    readonly members: ClusterMember[],
    /** A member was added or moved: links and forwarding clients must (re)connect to it. */
    private readonly onLearned: (m: ClusterMember) => void,
    private readonly persist: (m: StoredMemberAddress) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  get version(): number {
    return this.versionNow;
  }

  get(id: number): ClusterMember | undefined {
    return this.members.find((m) => m.id === id);
  }

  /** The member using this client or peer address, if any. */
  usingAddress(address: string): ClusterMember | undefined {
    return this.members.find((m) => m.clientAddress === address || m.peerAddress === address);
  }

  entries(): StoredMemberAddress[] {
    return this.members.map((m) => ({ id: m.id, clientAddress: m.clientAddress, peerAddress: m.peerAddress }));
  }

  merge(entries: readonly StoredMemberAddress[]): void {
    for (const e of entries) void this.learn(e).catch((err: unknown) => this.logger.error({ err, id: e.id }, "saving a member address failed"));
  }

  /** Sets the member's addresses (durably): adds an unknown id, moves a known one. */
  async place(m: StoredMemberAddress): Promise<void> {
    const known = this.get(m.id);
    if (known === undefined) return this.learn(m);
    if (m.clientAddress.length === 0 || m.peerAddress.length === 0) return;
    if (known.clientAddress === m.clientAddress && known.peerAddress === m.peerAddress) return;
    const from = { clientAddress: known.clientAddress, peerAddress: known.peerAddress };
    known.clientAddress = m.clientAddress;
    known.peerAddress = m.peerAddress;
    this.versionNow++;
    this.onLearned(known);
    this.logger.info({ ...known, from }, "a member moved to new addresses");
    await this.persist(known);
  }

  /** Adds an unknown id (durably); a known one keeps its addresses. */
  async learn(m: StoredMemberAddress): Promise<void> {
    if (!Number.isSafeInteger(m.id) || m.id < 1 || this.get(m.id) !== undefined) return;
    if (m.clientAddress.length === 0 || m.peerAddress.length === 0) return;
    const member = { id: m.id, clientAddress: m.clientAddress, peerAddress: m.peerAddress };
    this.members.push(member);
    this.versionNow++;
    this.onLearned(member);
    this.logger.info(member, "learned a member's addresses");
    await this.persist(member);
  }
}
