import { after, afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Message, MessageType, type SnapshotMeta } from "../../src/raft/types";
import { type Db, openDatabase } from "../../src/storage/db";
import { APPLIED_KEY, STATE_SPAN, isStateKey } from "../../src/storage/keys";
import { encodeApplied } from "../../src/storage/raft-codec";
import { exportState, importState } from "../../src/storage/snapshot-store";
import { peerMethods } from "../../src/transport/peer-proto";
import type { WireInstallSnapshotResult } from "../../src/transport/wire-types";
import { type TestPeer, startPeers, stopPeer } from "../support/peer-harness";
import { waitFor, withDeadline } from "../support/wait";

const deadlineMs = 10_000;
const conf = { voters: [1, 2, 3], learners: [] };
const meta: SnapshotMeta = { index: 50, term: 4, conf };
let running: TestPeer[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const peer of running) await stopPeer(peer);
  running = [];
});

after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

function snapMessage(from: number, to: number): Message {
  return { type: MessageType.Snap, from, to, term: 4, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, rejectHintTerm: 0, snapshot: meta };
}

async function* chunksOf(count: number, bytes: number): AsyncIterable<Buffer> {
  for (let i = 0; i < count; i++) yield Buffer.alloc(bytes, i);
}

async function drain(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

async function freshDb(): Promise<Db> {
  const dir = await mkdtemp(join(tmpdir(), "raftline-tsnap-"));
  dirs.push(dir);
  return openDatabase(dir);
}

describe("peer transport: snapshots", () => {
  it("streams a leader's state into a follower's database, Snap message first", async () => {
    const leaderDb = await freshDb();
    const followerDb = await freshDb();
    const batch = leaderDb.batch().put(APPLIED_KEY, encodeApplied(50, conf));
    for (let i = 0; i < 64; i++) batch.put(Buffer.from([0x15, i]), Buffer.alloc(40_000, i));
    await batch.write({ sync: true });
    let seen: Message | undefined;
    running = await startPeers([1, 2], (id) =>
      id === 2
        ? {
            onSnapshot: async (message, chunks) => {
              seen = message;
              await importState(followerDb, chunks, message.snapshot ?? meta);
            },
          }
        : {},
    );
    const installed = await withDeadline(running[0].transport.sendSnapshot(snapMessage(1, 2), exportState(leaderDb, { maxChunkBytes: 256 * 1024 })), deadlineMs, "snapshot sent");
    assert.equal(installed, true);
    assert.deepEqual(seen, snapMessage(1, 2));
    const range = async (db: Db) => (await db.iterator({ gte: STATE_SPAN.gte, lt: STATE_SPAN.lt }).all()).filter(([key]) => isStateKey(key));
    assert.deepEqual(await range(followerDb), await range(leaderDb));
    await leaderDb.close();
    await followerDb.close();
  });

  it("reports a refusal, a dead peer and an isolated node as not installed", async () => {
    running = await startPeers([1, 2, 3], (id) => ({
      enableFaults: true,
      onSnapshot: async (_message, chunks) => {
        const data = await drain(chunks);
        if (id === 2) throw new Error(`refusing ${data.length} bytes`);
      },
    }));
    const [a, , c] = running;
    assert.equal(await withDeadline(a.transport.sendSnapshot(snapMessage(1, 2), chunksOf(8, 100_000)), deadlineMs, "refused"), false);
    assert.equal(await withDeadline(a.transport.sendSnapshot(snapMessage(1, 3), chunksOf(8, 100_000)), deadlineMs, "accepted"), true);

    c.transport.setIsolated(true);
    assert.equal(await withDeadline(a.transport.sendSnapshot(snapMessage(1, 3), chunksOf(2, 10)), deadlineMs, "to isolated"), false);
    a.transport.setIsolated(true);
    assert.equal(await a.transport.sendSnapshot(snapMessage(1, 3), chunksOf(2, 10)), false);
    a.transport.setIsolated(false);
    c.transport.setIsolated(false);

    await stopPeer(c);
    running = running.slice(0, 2);
    assert.equal(await withDeadline(a.transport.sendSnapshot(snapMessage(1, 3), chunksOf(2, 10)), deadlineMs, "to a dead peer"), false);
  });

  it("receives one snapshot at a time and refuses a stream that does not start with its Snap message", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    running = await startPeers([1, 2], (id) =>
      id === 2
        ? {
            onSnapshot: async (_message, chunks) => {
              await gate;
              await drain(chunks);
            },
          }
        : {},
    );
    const [a, b] = running;
    const first = a.transport.sendSnapshot(snapMessage(1, 2), chunksOf(4, 1000));
    // The first install holds the only slot until the gate opens; a second one is refused meanwhile.
    let second = false;
    for (let attempt = 0; attempt < 50 && !second; attempt++) {
      second = !(await withDeadline(a.transport.sendSnapshot(snapMessage(1, 2), chunksOf(1, 10)), deadlineMs, "second"));
    }
    assert.equal(second, true);
    release();
    assert.equal(await withDeadline(first, deadlineMs, "first"), true);

    const client = new grpc.Client(b.address, grpc.credentials.createInsecure());
    const method = peerMethods().installSnapshot;
    const result = await new Promise<WireInstallSnapshotResult | undefined>((resolve) => {
      const call = client.makeClientStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, (err, res) => resolve(err ? undefined : res));
      call.write({ data: Buffer.from("no header") });
      call.end();
    });
    client.close();
    assert.equal(result?.installed, false);
    assert.match(result?.reason ?? "", /first chunk must carry a Snap message/);
  });

  it("gives up a send in flight when the transport closes", async () => {
    let receivedBytes = 0;
    const counting = async (_m: Message, chunks: AsyncIterable<Buffer>): Promise<void> => {
      for await (const chunk of chunks) receivedBytes += chunk.length;
    };
    running = await startPeers([1, 2], (id) => (id === 2 ? { onSnapshot: counting } : {}));
    const [a] = running;
    async function* endless(): AsyncIterable<Buffer> {
      for (;;) yield Buffer.alloc(64 * 1024);
    }
    const sending = a.transport.sendSnapshot(snapMessage(1, 2), endless());
    await waitFor(() => receivedBytes > 0, deadlineMs, "snapshot bytes flowing");
    await a.transport.close();
    assert.equal(await withDeadline(sending, deadlineMs, "cancelled send"), false);
  });
});
