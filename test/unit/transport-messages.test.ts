import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { connect } from "node:net";
import { EntryType, type Message, MessageType } from "../../src/raft/types";
import { peerMethods } from "../../src/transport/peer-proto";
import { setPeerIsolated } from "../../src/transport/fault-client";
import { PeerTransport } from "../../src/transport/peer-transport";
import { messageFromWire, messageToWire } from "../../src/transport/wire-convert";
import { type TestPeer, appMessage, bindServer, quietLogger, startPeer, startPeers, stopPeer } from "../support/peer-harness";
import { waitFor } from "../support/wait";

const deadlineMs = 10_000;
let running: TestPeer[] = [];

afterEach(async () => {
  for (const peer of running) await stopPeer(peer);
  running = [];
});

async function cluster(ids: number[], enableFaults = false): Promise<TestPeer[]> {
  running = await startPeers(ids, () => ({ enableFaults }));
  return running;
}

function indexes(messages: Message[]): number[] {
  return messages.map((m) => m.entries[0]?.index ?? -1);
}

const everyField: Message = {
  type: MessageType.ReadIndexResp,
  from: 3,
  to: 2,
  term: 2 ** 40,
  logTerm: 7,
  index: 99,
  entries: [
    { term: 7, index: 100, type: EntryType.ConfChange, data: new Uint8Array([1, 2]) },
    { term: 7, index: 101, type: EntryType.Normal, data: new Uint8Array(0) },
  ],
  commit: 98,
  reject: true,
  rejectHint: 50,
  rejectHintTerm: 6,
  snapshot: { index: 40, term: 5, conf: { voters: [1, 2, 3], learners: [4] } },
  context: "read-7",
};

describe("peer transport: messages", () => {
  it("converts every field of a raft message to the wire and back", () => {
    const back = messageFromWire(peerMethods().raft.requestDeserialize(peerMethods().raft.requestSerialize({ messages: [messageToWire(everyField)] })).messages[0]);
    assert.ok(back !== undefined);
    assert.deepEqual({ ...back, entries: back.entries.map((e) => ({ ...e, data: [...e.data] })) }, {
      ...everyField,
      entries: everyField.entries.map((e) => ({ ...e, data: [...e.data] })),
    });
    const bare = messageFromWire(messageToWire({ ...everyField, snapshot: undefined, context: undefined }));
    assert.ok(bare !== undefined && !("snapshot" in bare) && !("context" in bare));
  });

  it("delivers messages to each peer in order, including entries larger than a batch", async () => {
    const [a, b, c] = await cluster([1, 2, 3]);
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
    let index = 0;
    for (let turn = 0; turn < 20; turn++) {
      const batch: Message[] = [];
      for (let i = 0; i < 100; i++) {
        index++;
        const data = index % 250 === 0 ? big : new Uint8Array([index & 0xff, turn]);
        batch.push(appMessage(1, 2, index, data), appMessage(1, 3, index, data));
      }
      a.transport.send(batch);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => b.received.length === index && c.received.length === index, deadlineMs, "all messages delivered");
    const expected = Array.from({ length: index }, (_, i) => i + 1);
    assert.deepEqual(indexes(b.received), expected);
    assert.deepEqual(indexes(c.received), expected);
    assert.deepEqual([...b.received[249].entries[0].data], [...big]);
    assert.ok(b.received.every((m) => m.to === 2 && m.from === 1));
    assert.deepEqual(a.unreachable, []);
  });

  it("keeps serving the other peers while one is down, and reports the dead one unreachable", async () => {
    const [a, b, c] = await cluster([1, 2, 3]);
    await stopPeer(c);
    running = [a, b];
    for (let i = 1; i <= 2000; i++) a.transport.send([appMessage(1, 3, i), appMessage(1, 2, i)]);
    await waitFor(() => b.received.length === 2000, deadlineMs, "messages to the live peer");
    assert.deepEqual(indexes(b.received), Array.from({ length: 2000 }, (_, i) => i + 1));
    await waitFor(() => a.unreachable.includes(3), deadlineMs, "peer 3 reported unreachable");
    assert.ok(!a.unreachable.includes(2));
  });

  it("drops beyond the queue bound for a peer that stopped reading, without stalling the others", async () => {
    const stalled = await bindServer();
    const paused: grpc.ServerReadableStream<unknown, unknown>[] = [];
    stalled.server.addService(peerMethods().service, {
      Raft: (call: grpc.ServerReadableStream<unknown, unknown>) => {
        call.sendMetadata(new grpc.Metadata());
        call.pause();
        paused.push(call);
      },
    });
    const live = await bindServer();
    const self = await bindServer();
    const addresses = new Map([[1, self.address], [2, live.address], [3, stalled.address]]);
    const bounds = { maxQueuedMessages: 64, maxBatchBytes: 64 * 1024 };
    const a = startPeer(1, self, addresses, { bounds });
    const b = startPeer(2, live, addresses, { bounds });
    running = [a, b];
    const payload = new Uint8Array(16 * 1024);
    for (let turn = 0; turn < 400; turn++) {
      a.transport.send([appMessage(1, 3, turn + 1, payload), appMessage(1, 2, turn + 1, payload)]);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => b.received.length === 400, deadlineMs, "the live peer gets everything");
    await waitFor(() => a.unreachable.includes(3), deadlineMs, "the stalled peer reported unreachable");
    assert.ok(!a.unreachable.includes(2));
    for (const call of paused) call.destroy();
    stalled.server.forceShutdown();
  });

  it("reconnects to a peer that restarted on the same address", async () => {
    const [a, b] = await cluster([1, 2]);
    a.transport.send([appMessage(1, 2, 1)]);
    await waitFor(() => b.received.length === 1, deadlineMs, "first message");
    await stopPeer(b);
    running = [a];
    a.transport.send([appMessage(1, 2, 2)]);
    await waitFor(() => a.unreachable.includes(2), deadlineMs, "loss noticed");

    const rebound = await bindServer(b.address);
    const b2 = startPeer(2, rebound, new Map([[1, a.address], [2, b.address]]));
    running.push(b2);
    let probe = 100;
    await waitFor(() => {
      a.transport.send([appMessage(1, 2, ++probe)]);
      return b2.received.length > 0;
    }, deadlineMs, "delivery after restart");
    assert.ok(b2.received[0].entries[0].index > 2);
  });

  it("follows a peer to a new address, and drops traffic for a removed peer", async () => {
    const [a, b] = await cluster([1, 2]);
    await stopPeer(b);
    running = [a];
    const moved = startPeer(2, await bindServer(), new Map([[1, a.address]]));
    running.push(moved);
    a.transport.setPeer(2, moved.address);
    a.transport.send([appMessage(1, 2, 1)]);
    await waitFor(() => moved.received.length === 1, deadlineMs, "delivery at the new address");

    a.transport.removePeer(2);
    const dropped = a.transport.stats().outboundDropped;
    a.transport.send([appMessage(1, 2, 2)]);
    assert.equal(a.transport.stats().outboundDropped, dropped + 1);
  });

  it("isolates a node both ways until cleared, only when faults are enabled", async () => {
    const [a, b] = await cluster([1, 2], true);
    a.transport.send([appMessage(1, 2, 1)]);
    b.transport.send([appMessage(2, 1, 1)]);
    await waitFor(() => a.received.length === 1 && b.received.length === 1, deadlineMs, "links up both ways");

    await setPeerIsolated(b.address, true, deadlineMs);
    assert.equal(b.transport.isolated, true);
    a.transport.send([appMessage(1, 2, 2)]);
    b.transport.send([appMessage(2, 1, 2)]);
    await waitFor(() => b.transport.stats().inboundDropped === 1 && b.transport.stats().outboundDropped === 1, deadlineMs, "both dropped at b");

    await setPeerIsolated(b.address, false, deadlineMs);
    a.transport.send([appMessage(1, 2, 3)]);
    b.transport.send([appMessage(2, 1, 3)]);
    await waitFor(() => a.received.length === 2 && b.received.length === 2, deadlineMs, "traffic after isolation");
    assert.deepEqual(indexes(a.received), [1, 3]);
    assert.deepEqual(indexes(b.received), [1, 3]);

    const plain = await startPeers([5]);
    running.push(...plain);
    await assert.rejects(setPeerIsolated(plain[0].address, true, deadlineMs), (err: grpc.ServiceError) => err.code === grpc.status.PERMISSION_DENIED);
    assert.equal(plain[0].transport.isolated, false);
  });

  it("survives garbage on the peer port: raw bytes, undecodable batches, unknown message types", async () => {
    const [a, b] = await cluster([1, 2]);
    const [host, port] = b.address.split(":");
    for (const junk of [Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) & 0xff))]) {
      await new Promise<void>((resolve) => {
        const socket = connect(Number(port), host, () => socket.end(junk));
        socket.on("error", () => resolve());
        socket.on("close", () => resolve());
        socket.resume();
      });
    }

    const client = new grpc.Client(b.address, grpc.credentials.createInsecure());
    const raw = await new Promise<grpc.ServiceError | null>((resolve) => {
      const call = client.makeClientStreamRequest(peerMethods().raft.path, (bytes: Buffer) => bytes, (bytes: Buffer) => bytes, (err) => resolve(err));
      call.write(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 1, 2]));
      call.end();
    });
    assert.ok(raw !== null);
    const unknownType = await new Promise<grpc.ServiceError | null>((resolve) => {
      const method = peerMethods().raft;
      const call = client.makeClientStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, (err) => resolve(err));
      call.write({ messages: [{ ...messageToWire(appMessage(1, 2, 7)), type: 99 as unknown as string }, messageToWire(appMessage(1, 2, 8)), messageToWire(appMessage(1, 3, 9))] });
      call.end();
    });
    assert.equal(unknownType, null);
    client.close();
    await waitFor(() => b.received.length === 1, deadlineMs, "the one valid message");
    assert.deepEqual(indexes(b.received), [8]);

    a.transport.send([appMessage(1, 2, 10)]);
    await waitFor(() => b.received.length === 2, deadlineMs, "normal traffic afterwards");
  });

  it("never throws from send, whatever it is given", async () => {
    const transport = new PeerTransport({
      selfId: 1,
      peers: new Map([[2, "127.0.0.1:1"]]),
      logger: quietLogger,
      enableFaults: false,
      onMessages: () => undefined,
      onSnapshot: () => Promise.resolve(),
      onUnreachable: () => undefined,
    });
    const snap: Message = { ...appMessage(1, 2, 1), type: MessageType.Snap };
    const broken = { ...appMessage(1, 2, 1), entries: undefined } as unknown as Message;
    assert.doesNotThrow(() => transport.send([appMessage(1, 9, 1), snap, broken, { ...appMessage(1, 2, 1), type: 77 as MessageType }]));
    await transport.close();
    assert.doesNotThrow(() => transport.send([appMessage(1, 2, 2)]));
  });
});
