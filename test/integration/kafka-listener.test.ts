// The Kafka listener's connection handling on its own (no cluster): a frame dribbled in slower than the
// frame timeout is cut off even while bytes keep coming; pipelined Produce requests are handled
// concurrently yet answered in request order; any other request waits for the requests before it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import pino from "pino";
import { ApiKey } from "../../src/kafka/protocol";
import { KafkaWriter } from "../../src/kafka/wire";
import type { RequestHeader } from "../../src/kafka/header";
import { KafkaListener } from "../../src/server/kafka/kafka-listener";
import { waitFor } from "../support/wait";

const deadlineMs = 10000;
const frameTimeoutMs = 300;
let listener: KafkaListener;
const started: number[] = [];
/** Resolvers of requests the test holds open, by correlation id. */
const held = new Map<number, () => void>();

before(async () => {
  const handle = (header: RequestHeader): Promise<Uint8Array> => {
    started.push(header.correlationId);
    const answer = new KafkaWriter().int16(header.apiKey).finish();
    if (header.correlationId >= 100) return new Promise((resolve) => held.set(header.correlationId, () => resolve(answer)));
    return Promise.resolve(answer);
  };
  listener = await KafkaListener.start(
    "127.0.0.1:0",
    handle,
    { maxFrameBytes: 1 << 20, maxConnections: 8, frameTimeoutMs, idleTimeoutMs: 60000, maxQueuedFrames: 16, maxQueuedBytes: 1 << 20 },
    pino({ level: "silent" }),
  );
});
after(() => listener.close());

function frame(key: number, correlationId: number, padding = 0): Uint8Array {
  const w = new KafkaWriter().int32(0).int16(key).int16(3).int32(correlationId).nullableString("t").raw(new Uint8Array(padding));
  const bytes = w.finish();
  new DataView(bytes.buffer, bytes.byteOffset).setInt32(0, bytes.length - 4);
  return Uint8Array.from(bytes);
}

function connect(): { socket: net.Socket; answers: number[]; closed: () => boolean } {
  const [host, port] = [listener.address.split(":")[0], Number(listener.address.split(":")[1])];
  const socket = net.connect(port, host);
  const answers: number[] = [];
  let received = Buffer.alloc(0);
  let closed = false;
  socket.on("data", (b: Buffer) => {
    received = Buffer.concat([received, b]);
    while (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
      answers.push(received.readInt32BE(4));
      received = received.subarray(4 + received.readInt32BE(0));
    }
  });
  socket.on("close", () => (closed = true));
  socket.on("error", () => undefined);
  return { socket, answers, closed: () => closed };
}

test("a frame dribbled in slower than the frame timeout is cut off while bytes still come", async () => {
  const c = connect();
  const bytes = frame(ApiKey.Metadata, 1, 200);
  let sent = 0;
  const dribble = setInterval(() => {
    if (sent < bytes.length && !c.closed()) c.socket.write(bytes.subarray(sent, ++sent));
  }, 20);
  try {
    await waitFor(() => c.closed(), deadlineMs, "the listener to close the dribbling connection");
    assert.ok(sent < bytes.length, `closed after ${sent} of ${bytes.length} bytes`);
  } finally {
    clearInterval(dribble);
  }
});

test("pipelined Produce requests run concurrently and are answered in request order; others wait their turn", async () => {
  const c = connect();
  c.socket.write(Buffer.concat([frame(ApiKey.Produce, 100), frame(ApiKey.Produce, 101), frame(ApiKey.Metadata, 102), frame(ApiKey.Produce, 103)]));
  await waitFor(() => held.has(100) && held.has(101), deadlineMs, "both produces to start");
  assert.ok(!started.includes(102), "Metadata waits for the produces before it");
  held.get(101)?.();
  held.get(100)?.();
  await waitFor(() => held.has(102), deadlineMs, "the metadata request to start");
  assert.deepEqual(c.answers, [100, 101]);
  assert.ok(!started.includes(103), "a produce after another request waits for it");
  held.get(102)?.();
  await waitFor(() => held.has(103), deadlineMs, "the last produce to start");
  held.get(103)?.();
  await waitFor(() => c.answers.length === 4, deadlineMs, "every answer");
  assert.deepEqual(c.answers, [100, 101, 102, 103]);
  c.socket.destroy();
});
