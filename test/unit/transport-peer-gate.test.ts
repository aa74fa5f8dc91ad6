// The transport's peer gate, over real gRPC on loopback: a stream from an admitted peer is delivered;
// a refused one delivers nothing, and the sender hears why (cluster or incarnation). The address book
// rides on the first batch of a stream, so a receiver learns members it did not know.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { NodeId } from "../../src/raft/types";
import type { PeerClaim, PeerGate, Refusal } from "../../src/transport/peer-gate";
import type { PeerDirectory } from "../../src/transport/peer-directory";
import type { WireMemberAddress } from "../../src/transport/wire-types";
import { type TestPeer, appMessage, startPeers, stopPeer } from "../support/peer-harness";
import { waitFor } from "../support/wait";

class Gate implements PeerGate {
  readonly refusals: [NodeId, Refusal][] = [];
  constructor(
    private readonly claim: PeerClaim,
    private readonly decide: (claim: PeerClaim) => Refusal | undefined = () => undefined,
  ) {}
  self(): PeerClaim {
    return this.claim;
  }
  admit(claim: PeerClaim): Promise<Refusal | undefined> {
    return Promise.resolve(this.decide(claim));
  }
  refused(peer: NodeId, refusal: Refusal): void {
    this.refusals.push([peer, refusal]);
  }
}

class Book implements PeerDirectory {
  version = 1;
  merged: WireMemberAddress[] = [];
  constructor(private readonly own: WireMemberAddress[]) {}
  entries(): WireMemberAddress[] {
    return this.own;
  }
  merge(entries: readonly WireMemberAddress[]): void {
    this.merged.push(...entries);
  }
}

const peers: TestPeer[] = [];
after(async () => {
  for (const p of peers) await stopPeer(p);
});

describe("peer gate", () => {
  it("delivers an admitted peer's messages and refuses another's, telling the sender why", async () => {
    const gates = new Map<NodeId, Gate>([
      [1, new Gate({ clusterId: "c", nodeId: 1, incarnation: "a", applied: 0 }, (c) => (c.nodeId === 3 ? { kind: "incarnation", message: "stale node 3" } : undefined))],
      [2, new Gate({ clusterId: "c", nodeId: 2, incarnation: "b", applied: 0 })],
      [3, new Gate({ clusterId: "c", nodeId: 3, incarnation: "z", applied: 0 })],
    ]);
    const books = new Map<NodeId, Book>([
      [1, new Book([])],
      [2, new Book([{ id: 7, clientAddress: "h:1", peerAddress: "h:2" }])],
      [3, new Book([])],
    ]);
    const started = await startPeers([1, 2, 3], (id) => ({ gate: gates.get(id), directory: books.get(id) }));
    peers.push(...started);
    const [one, two, three] = started;
    two.transport.send([appMessage(2, 1, 1)]);
    three.transport.send([appMessage(3, 1, 1)]);
    await waitFor(() => one.received.length === 1 && gates.get(3)?.refusals.length === 1, 10000, "one delivery and one refusal");
    assert.equal(one.received[0].from, 2, "only the admitted peer's message arrived");
    assert.deepEqual(gates.get(3)?.refusals[0], [1, { kind: "incarnation", message: "stale node 3" }]);
    assert.deepEqual(books.get(1)?.merged, [{ id: 7, clientAddress: "h:1", peerAddress: "h:2" }], "the book came along");
  });

  it("refuses a peer of another cluster, and a stream that names no cluster at all", async () => {
    const strict = new Gate({ clusterId: "c", nodeId: 1, incarnation: "a", applied: 0 }, (c) =>
      c.clusterId === "c" ? undefined : { kind: "cluster", message: `cluster ${c.clusterId} is not c` },
    );
    const foreign = new Gate({ clusterId: "d", nodeId: 2, incarnation: "b", applied: 0 });
    const started = await startPeers([1, 2, 3], (id) => (id === 1 ? { gate: strict } : id === 2 ? { gate: foreign } : {}));
    peers.push(...started);
    const [one, two, anonymous] = started;
    two.transport.send([appMessage(2, 1, 1)]);
    anonymous.transport.send([appMessage(3, 1, 1)]);
    await waitFor(() => foreign.refusals.length === 1, 10000, "the foreign peer to be refused");
    assert.deepEqual(foreign.refusals[0], [1, { kind: "cluster", message: "cluster d is not c" }]);
    // The anonymous sender has no gate to tell: its stream ends refused, and its link reports node 1 unreachable.
    await waitFor(() => anonymous.unreachable.includes(1), 10000, "the anonymous stream to be refused");
    assert.equal(one.received.length, 0, "nothing from either reached raft");
  });
});
