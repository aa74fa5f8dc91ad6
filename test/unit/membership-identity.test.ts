// Node identity and peer admission: a data directory keeps its cluster, node id and incarnation; peers
// are admitted under the incarnation first seen, a voter coming back under another one is refused (it
// lost the disk that held its vote), a learner or non-member is taken under its new one, and a peer of
// another cluster is refused.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { openDatabase } from "../../src/storage/db";
import { loadMemberAddresses, loadPeerIncarnations, saveMemberAddress, savePeerIncarnation } from "../../src/storage/cluster-identity";
import { AddressBook } from "../../src/server/address-book";
import { ConfigError } from "../../src/server/config";
import { bootstrapClusterId, resolveIdentity } from "../../src/server/node-identity";
import { PeerAdmission } from "../../src/server/peer-admission";
import type { PeerClaim } from "../../src/transport/peer-gate";

const logger = pino({ level: "silent" });
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "raftline-identity-"));
  dirs.push(dir);
  return dir;
}

const members = [
  { id: 1, clientAddress: "127.0.0.1:7001", peerAddress: "127.0.0.1:7101" },
  { id: 2, clientAddress: "127.0.0.1:7002", peerAddress: "127.0.0.1:7102" },
  { id: 3, clientAddress: "127.0.0.1:7003", peerAddress: "127.0.0.1:7103" },
];

describe("node identity", () => {
  it("derives one cluster id from the bootstrap members, whatever their order, and another for other members", () => {
    const id = bootstrapClusterId(members);
    assert.match(id, /^[0-9a-f]{16}$/);
    assert.equal(bootstrapClusterId([...members].reverse()), id);
    assert.notEqual(bootstrapClusterId(members.slice(0, 2)), id);
  });

  it("is created once, kept across restarts, and refuses to run the directory as another node", async () => {
    const dir = await freshDir();
    let db = await openDatabase(dir);
    const first = await resolveIdentity(db, dir, 2, { joined: false, clusterId: "c1" });
    assert.equal(first.clusterId, "c1");
    assert.equal(first.nodeId, 2);
    assert.equal(first.joined, false);
    assert.match(first.incarnation, /^[0-9a-f]{16}$/);
    await db.close();
    db = await openDatabase(dir);
    assert.deepEqual(await resolveIdentity(db, dir, 2, { joined: false, clusterId: "other" }), first, "the stored identity wins");
    await assert.rejects(resolveIdentity(db, dir, 3, { joined: false, clusterId: "c1" }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /belongs to node 2 of cluster c1, not to node 3/);
      return true;
    });
    await db.close();
  });

  it("a wiped directory gets a new incarnation; a joiner takes the cluster id it was given", async () => {
    const a = await openDatabase(await freshDir());
    const b = await openDatabase(await freshDir());
    const one = await resolveIdentity(a, "a", 1, { joined: false, clusterId: "c1" });
    const two = await resolveIdentity(b, "b", 1, { joined: true, clusterId: () => Promise.resolve("c9") });
    assert.notEqual(one.incarnation, two.incarnation);
    assert.equal(two.clusterId, "c9");
    assert.equal(two.joined, true);
    await a.close();
    await b.close();
  });

  it("keeps peer incarnations and learned member addresses on disk", async () => {
    const dir = await freshDir();
    let db = await openDatabase(dir);
    await savePeerIncarnation(db, 3, "abc");
    await saveMemberAddress(db, { id: 4, clientAddress: "h:1", peerAddress: "h:2" });
    await db.close();
    db = await openDatabase(dir);
    assert.deepEqual([...(await loadPeerIncarnations(db))], [[3, "abc"]]);
    assert.deepEqual(await loadMemberAddresses(db), [{ id: 4, clientAddress: "h:1", peerAddress: "h:2" }]);
    await db.close();
  });
});

function admission(voters: number[], known: [number, string][] = [], applied = 100, recorded: [number, string][] = [], learners: number[] = []) {
  const saved: [number, string][] = [];
  const forgotten: number[] = [];
  const gate = new PeerAdmission(
    { clusterId: "c1", nodeId: 1, incarnation: "i1", joined: false },
    new Map(known),
    { save: (id, inc) => Promise.resolve(void saved.push([id, inc])), forget: (id) => Promise.resolve(void forgotten.push(id)) },
    logger,
    {
      isVoter: (id) => voters.includes(id),
      isMember: (id) => voters.includes(id) || learners.includes(id),
      applied: () => applied,
      recorded: (id) => new Map(recorded).get(id),
    },
  );
  return { gate, saved, forgotten };
}

const claim = (nodeId: number, incarnation: string, clusterId = "c1", applied = 0): PeerClaim => ({ clusterId, nodeId, incarnation, applied });

describe("peer admission", () => {
  it("admits a peer's first incarnation, saved before the answer, and the same one again", async () => {
    const { gate, saved } = admission([1, 2, 3]);
    assert.equal(await gate.admit(claim(2, "a")), undefined);
    assert.deepEqual(saved, [[2, "a"]]);
    assert.equal(await gate.admit(claim(2, "a")), undefined);
    assert.deepEqual(saved, [[2, "a"]], "saved once");
  });

  it("refuses a voter that comes back under another incarnation, naming the way out", async () => {
    const { gate, saved } = admission([1, 2, 3], [[2, "a"]]);
    const refusal = await gate.admit(claim(2, "b"));
    assert.equal(refusal?.kind, "incarnation");
    assert.match(refusal?.message ?? "", /knows node 2 as incarnation a, but it came back as b/);
    assert.match(refusal?.message ?? "", /replace-node --id 2/);
    assert.deepEqual(saved, [], "nothing changed");
    assert.equal(await gate.admit(claim(2, "a")), undefined, "the known incarnation still gets in");
  });

  it("refuses a wiped voter by the log's record, though this node never met the incarnation that voted", async () => {
    const { gate, saved } = admission([1, 2, 3], [], 100, [[2, "a"]]);
    const refusal = await gate.admit(claim(2, "b"));
    assert.equal(refusal?.kind, "incarnation");
    assert.match(refusal?.message ?? "", /knows node 2 as incarnation a, but it came back as b/);
    assert.deepEqual(saved, []);
    assert.equal(await gate.admit(claim(2, "a")), undefined);
    assert.deepEqual(saved, [[2, "a"]], "the recorded incarnation is remembered locally once met");
  });

  it("follows the log's record over the incarnation this node saw first (the member was replaced)", async () => {
    const { gate } = admission([1, 2, 3], [[2, "a"]], 100, [[2, "b"]]);
    assert.equal((await gate.admit(claim(2, "a")))?.kind, "incarnation", "the old incarnation no longer gets in");
    assert.equal(await gate.admit(claim(2, "b")), undefined);
    assert.equal(gate.incarnationOf(2), "b");
  });

  it("an empty record (a member added, not yet heard from) leaves the decision to what this node saw", async () => {
    const { gate } = admission([1, 2, 3], [[2, "a"]], 100, [[2, ""]]);
    assert.equal((await gate.admit(claim(2, "b")))?.kind, "incarnation");
    assert.equal(await gate.admit(claim(2, "a")), undefined);
  });

  it("forgets a removed member's incarnation: its replacement is taken under a new one, even as a voter", async () => {
    const { gate, forgotten } = admission([1, 2, 3], [[2, "a"], [3, "c"]]);
    await gate.membershipApplied({ voters: [1, 3], learners: [] });
    assert.deepEqual(forgotten, [2]);
    assert.equal(gate.incarnationOf(2), undefined);
    assert.equal(gate.incarnationOf(3), "c");
    assert.equal(await gate.admit(claim(2, "b")), undefined);
  });

  it("takes a voter's new incarnation from a node that has applied further (this node lags behind its replacement)", async () => {
    const { gate } = admission([1, 2, 3], [[2, "a"]], 100);
    assert.equal((await gate.admit(claim(2, "b", "c1", 100)))?.kind, "incarnation", "not further: refused");
    assert.equal(await gate.admit(claim(2, "b", "c1", 101)), undefined);
    assert.equal(gate.incarnationOf(2), "b");
    assert.deepEqual(gate.self(), { clusterId: "c1", nodeId: 1, incarnation: "i1", applied: 100 });
  });

  it("takes a learner's or a non-member's new incarnation: neither votes (a replaced node gets back in)", async () => {
    const { gate, saved } = admission([1, 3], [[2, "a"]]);
    assert.equal(await gate.admit(claim(2, "b")), undefined);
    assert.deepEqual(saved, [[2, "b"]]);
    assert.equal(gate.incarnationOf(2), "b");
  });

  it("tells the very incarnation that was removed so (it stops), and admits a new incarnation under its id", async () => {
    const { gate } = admission([1, 3], [], 100, [[2, "a"]]);
    const why: string[] = [];
    gate.onRemoved((w) => why.push(w));
    const refusal = await gate.admit(claim(2, "a"));
    assert.equal(refusal?.kind, "removed");
    assert.match(refusal?.message ?? "", /node 2 \(incarnation a\) was removed from cluster c1/);
    assert.equal(await gate.admit(claim(2, "b")), undefined, "a new member under the old id is not the removed one");
    const learner = admission([1, 3], [], 100, [[2, "a"]], [2]);
    assert.equal(await learner.gate.admit(claim(2, "a")), undefined, "a learner with a recorded incarnation is a member");
    // The refused side: a "removed" refusal fires the listener; other refusals do not.
    gate.refused(3, { kind: "incarnation", message: "no" });
    gate.refused(3, { kind: "removed", message: "node 1 (incarnation i1) was removed from cluster c1" });
    assert.deepEqual(why, ["node 1 (incarnation i1) was removed from cluster c1"]);
  });

  it("refuses a peer of another cluster, and one claiming this node's own id", async () => {
    const { gate, saved } = admission([1, 2, 3]);
    const other = await gate.admit(claim(2, "a", "c2"));
    assert.equal(other?.kind, "cluster");
    assert.match(other?.message ?? "", /belongs to cluster c2, node 1 to cluster c1/);
    assert.equal((await gate.admit(claim(1, "zz")))?.kind, "incarnation");
    assert.deepEqual(saved, []);
  });

  it("decides one claim at a time per peer: of two new incarnations racing in, only the first gets in", async () => {
    const { gate } = admission([1, 2, 3]);
    const [first, second] = await Promise.all([gate.admit(claim(2, "a")), gate.admit(claim(2, "b"))]);
    assert.equal(first, undefined);
    assert.equal(second?.kind, "incarnation");
  });
});

describe("address book", () => {
  it("moves a known id to new addresses when told where it is now (the log's member record), saved and announced", async () => {
    const saved: string[] = [];
    const announced: string[] = [];
    const book = new AddressBook(members.map((m) => ({ ...m })), (m) => announced.push(m.peerAddress), (m) => Promise.resolve(void saved.push(m.clientAddress)), logger);
    await book.place({ id: 2, clientAddress: "new:1", peerAddress: "new:2" });
    assert.deepEqual(book.get(2), { id: 2, clientAddress: "new:1", peerAddress: "new:2" });
    assert.deepEqual(book.members.filter((m) => m.id === 2).length, 1, "moved, not duplicated");
    await book.place({ id: 2, clientAddress: "new:1", peerAddress: "new:2" });
    await book.place({ id: 2, clientAddress: "", peerAddress: "" });
    assert.deepEqual(saved, ["new:1"], "the same addresses again, or none, change nothing");
    assert.deepEqual(announced, ["new:2"]);
    assert.equal(book.version, 1);
  });

  it("grows only: a known id keeps its first addresses; each addition is saved and bumps the version", async () => {
    const saved: number[] = [];
    const learned: number[] = [];
    const book = new AddressBook(members.map((m) => ({ ...m })), (m) => learned.push(m.id), (m) => Promise.resolve(void saved.push(m.id)), logger);
    assert.equal(book.version, 0);
    book.merge([
      { id: 2, clientAddress: "elsewhere:1", peerAddress: "elsewhere:2" },
      { id: 4, clientAddress: "h:1", peerAddress: "h:2" },
    ]);
    await new Promise((r) => setImmediate(r));
    assert.equal(book.get(2)?.clientAddress, "127.0.0.1:7002");
    assert.deepEqual(book.get(4), { id: 4, clientAddress: "h:1", peerAddress: "h:2" });
    assert.equal(book.version, 1);
    assert.deepEqual(saved, [4]);
    assert.deepEqual(learned, [4]);
    assert.equal(book.entries().length, 4);
  });
});
