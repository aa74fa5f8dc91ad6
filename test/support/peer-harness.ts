// Peer transports on 127.0.0.1 ephemeral ports, each on its own grpc.Server, recording what they
// receive. For the transport tests.
import * as grpc from "@grpc/grpc-js";
import pino from "pino";
import { EntryType, type Message, MessageType, type NodeId } from "../../src/raft/types";
import { PeerTransport, type PeerTransportOptions } from "../../src/transport/peer-transport";
import { peerServerOptions } from "../../src/transport/transport-bounds";

export const quietLogger = pino({ level: process.env.RAFTLINE_TEST_LOG ?? "silent" });

export interface TestPeer {
  id: NodeId;
  address: string;
  server: grpc.Server;
  transport: PeerTransport;
  received: Message[];
  unreachable: NodeId[];
}

export type PeerOverrides = Partial<Omit<PeerTransportOptions, "selfId" | "peers" | "logger">>;

export async function bindServer(address = "127.0.0.1:0"): Promise<{ server: grpc.Server; address: string }> {
  const server = new grpc.Server(peerServerOptions());
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  return { server, address: `127.0.0.1:${port}` };
}

/** Starts one transport on `bound`, knowing every peer's address. */
export function startPeer(
  id: NodeId,
  bound: { server: grpc.Server; address: string },
  addresses: ReadonlyMap<NodeId, string>,
  overrides: PeerOverrides = {},
): TestPeer {
  const received: Message[] = [];
  const unreachable: NodeId[] = [];
  const transport = new PeerTransport({
    selfId: id,
    peers: addresses,
    logger: quietLogger.child({ node: id }),
    enableFaults: false,
    onMessages: (messages) => {
      received.push(...messages);
    },
    onSnapshot: () => Promise.reject(new Error("no snapshots expected")),
    onUnreachable: (peer) => unreachable.push(peer),
    ...overrides,
  });
  transport.addTo(bound.server);
  return { id, address: bound.address, server: bound.server, transport, received, unreachable };
}

export async function startPeers(ids: NodeId[], overrides: (id: NodeId) => PeerOverrides = () => ({})): Promise<TestPeer[]> {
  const bound = await Promise.all(ids.map(() => bindServer()));
  const addresses = new Map(ids.map((id, i) => [id, bound[i].address]));
  return ids.map((id, i) => startPeer(id, bound[i], addresses, overrides(id)));
}

export async function stopPeer(peer: TestPeer): Promise<void> {
  await peer.transport.close();
  peer.server.forceShutdown();
}

export function appMessage(from: NodeId, to: NodeId, index: number, data: Uint8Array = new Uint8Array([index & 0xff])): Message {
  return {
    type: MessageType.App,
    from,
    to,
    term: 1,
    logTerm: 1,
    index: index - 1,
    entries: [{ term: 1, index, type: EntryType.Normal, data }],
    commit: 0,
    reject: false,
    rejectHint: 0,
    rejectHintTerm: 0,
  };
}
