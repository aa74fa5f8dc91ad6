// The addresses of the cluster's members as this node knows them, shared over the peer links: each link
// sends the book on a stream's first batch and again whenever it has grown, and a receiver merges what it
// admitted. The book only grows; who is a member is raft's business, not the book's.
import type { WireMemberAddress } from "./wire-types";

export interface PeerDirectory {
  /** Grows whenever an entry is added. */
  readonly version: number;
  entries(): WireMemberAddress[];
  /** Entries from an admitted peer. */
  merge(entries: readonly WireMemberAddress[]): void;
}
