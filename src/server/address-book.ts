// Where each member is reached: the bootstrap members from the configuration, plus every member added
// since (learned from AddNode on the leader, or from a peer's book over the raft links), kept on disk.
// It only grows, and an id keeps its first addresses: a node added again later must come back at them.
import type { Logger } from "pino";
import type { StoredMemberAddress } from "../storage/cluster-identity";
import type { PeerDirectory } from "../transport/peer-directory";
import type { ClusterMember } from "./config";

export class AddressBook implements PeerDirectory {
  private versionNow = 0;

  constructor(
    /** Shared with the forwarder, which looks members up in it: only ever appended to. */
    readonly members: ClusterMember[],
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
