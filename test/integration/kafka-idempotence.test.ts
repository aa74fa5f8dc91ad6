// An idempotent Kafka producer whose send fails after the broker appended it: kafkajs 2.x gives the next
// batch (other records) the failed batch's sequence. Answered as a duplicate, those records would be
// acknowledged and never stored; Raftline compares the records and refuses the batch with
// OUT_OF_ORDER_SEQUENCE_NUMBER instead, so nothing acknowledged is lost. A genuine resend (same records,
// new timestamps: kafkajs stamps each attempt anew) is still answered with the original offset.
// Shown with raw Produce requests and with kafkajs itself behind a proxy that cuts the connection
// instead of delivering a Produce answer, as a leader dying right after appending does.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import * as grpc from "@grpc/grpc-js";
import { Kafka, logLevel, type Producer } from "kafkajs";
import { crc32c } from "../../src/broker/crc32c";
import { writeBatch, type RecordToServe } from "../../src/kafka/record-batch-v2";
import { ApiKey, KafkaError } from "../../src/kafka/protocol";
import { KafkaReader, KafkaWriter } from "../../src/kafka/wire";
import type { FetchResponse__Output } from "../../src/generated/raftline/v1/FetchResponse";
import { startKafkaCluster, type KafkaCluster } from "../support/kafka-cluster";
import { rawStubs, unaryCall, type RawStubs } from "../support/raw-stubs";
import { waitFor } from "../support/wait";

const deadlineMs = 20000;
const t0 = 1_700_000_000_000;
process.env.KAFKAJS_NO_PARTITIONER_WARNING = "1";

let kc: KafkaCluster;
let stubs: RawStubs;

function hostPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(":");
  return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
}

/** Complete size-prefixed frames at the front of `buffer`, and what is left after them. */
function takeFrames(buffer: Buffer): { frames: Buffer[]; rest: Buffer } {
  const frames: Buffer[] = [];
  let at = 0;
  while (buffer.length - at >= 4 && buffer.length - at >= 4 + buffer.readInt32BE(at)) {
    const end = at + 4 + buffer.readInt32BE(at);
    frames.push(buffer.subarray(at, end));
    at = end;
  }
  return { frames, rest: buffer.subarray(at) };
}

/** One Kafka connection speaking request/answer frames. */
class Conn {
  private readonly socket: net.Socket;
  private received: Buffer = Buffer.alloc(0);
  private nextCorrelationId = 1;

  constructor(address: string) {
    this.socket = net.connect(hostPort(address));
    this.socket.on("data", (b: Buffer) => (this.received = Buffer.concat([this.received, b])));
    this.socket.on("error", () => undefined);
  }

  /** Sends one request and returns its answer after the correlation id. */
  async call(key: ApiKey, version: number, body: (w: KafkaWriter) => void): Promise<KafkaReader> {
    const correlationId = this.nextCorrelationId++;
    const w = new KafkaWriter();
    w.int32(0).int16(key).int16(version).int32(correlationId).nullableString("raw-idempotent");
    body(w);
    const frame = w.finish();
    new DataView(frame.buffer, frame.byteOffset).setInt32(0, frame.length - 4);
    this.socket.write(frame);
    const answer = await waitFor(() => {
      const { frames, rest } = takeFrames(this.received);
      if (frames.length === 0) return undefined;
      this.received = Buffer.concat([...frames.slice(1), rest]);
      return frames[0].subarray(4);
    }, deadlineMs, "an answer");
    const r = new KafkaReader(answer);
    assert.equal(r.int32("correlation id"), correlationId);
    return r;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** An idempotent RecordBatch v2 (uncompressed) carrying the producer's id, epoch and base sequence. */
function idempotentBatch(producerId: number, epoch: number, baseSequence: number, records: readonly RecordToServe[]): Uint8Array {
  const w = new KafkaWriter();
  writeBatch(w, 0, records);
  const batch = Uint8Array.from(w.finish());
  const view = new DataView(batch.buffer);
  view.setBigInt64(43, BigInt(producerId));
  view.setInt16(51, epoch);
  view.setInt32(53, baseSequence);
  view.setUint32(17, crc32c(batch, 21));
  return batch;
}

const values = (tag: string, count = 3, timestampMs = t0): RecordToServe[] =>
  Array.from({ length: count }, (_, i) => ({ timestampMs: timestampMs + i, key: Buffer.from(`k${i}`), value: Buffer.from(`${tag}-${i}`), headers: [] }));

async function produce(c: Conn, topic: string, batch: Uint8Array): Promise<{ error: number; offset: number }> {
  const r = await c.call(ApiKey.Produce, 7, (w) =>
    w.nullableString(null).int16(-1).int32(10000).array([topic], (w, t) => w.string(t).array([0], (w, p) => w.int32(p).nullableBytes(batch))),
  );
  r.int32("topics");
  r.string("topic");
  r.int32("partitions");
  r.int32("partition");
  return { error: r.int16("error"), offset: r.int64("base offset") };
}

/** Every record's value on partition 0 of `topic`, read through gRPC. */
async function storedValues(topic: string): Promise<string[]> {
  const res = await unaryCall<FetchResponse__Output>((o, cb) =>
    stubs.consumer.Fetch({ topic, partition: 0, offset: 0, maxBytes: 4 * 1024 * 1024 }, new grpc.Metadata(), o, cb),
  );
  return res.records.map((r) => Buffer.from(r.value).toString());
}

/**
 * Between kafkajs and the node: passes every frame through, except that while `produceAnswersToCut` is
 * above 0 it swallows a Produce answer and cuts the connection, so kafkajs never learns the outcome of
 * a batch the node appended.
 */
class CuttingProxy {
  produceAnswersToCut = 0;
  cut = 0;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly target: string) {
    this.server = net.createServer((client) => this.serve(client));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }

  private serve(client: net.Socket): void {
    const upstream = net.connect(hostPort(this.target));
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on("error", () => undefined);
      s.on("close", () => {
        this.sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    const apiKeyOf = new Map<number, number>();
    let fromClient: Buffer = Buffer.alloc(0);
    let fromNode: Buffer = Buffer.alloc(0);
    client.on("data", (b: Buffer) => {
      const { frames, rest } = takeFrames(Buffer.concat([fromClient, b]));
      for (const f of frames) apiKeyOf.set(f.readInt32BE(8), f.readInt16BE(4));
      fromClient = rest;
      upstream.write(b);
    });
    upstream.on("data", (b: Buffer) => {
      const { frames, rest } = takeFrames(Buffer.concat([fromNode, b]));
      fromNode = rest;
      for (const f of frames) {
        if (apiKeyOf.get(f.readInt32BE(4)) === ApiKey.Produce && this.produceAnswersToCut > 0) {
          this.produceAnswersToCut--;
          this.cut++;
          client.destroy();
          upstream.destroy();
          return;
        }
        client.write(f);
      }
    });
  }
}

describe("idempotent Kafka producers and reused sequences", () => {
  before(async () => {
    kc = await startKafkaCluster({ nodes: 1, cleanupAfter: false });
    await kc.cluster.waitForLeader(deadlineMs);
    stubs = rawStubs(kc.cluster.node(1).clientAddress);
    const admin = kc.cluster.client().admin();
    for (const name of ["raw", "kafkajs-reuse", "kafkajs-resend"]) await admin.createTopic({ name, partitions: 1 });
  });
  after(async () => {
    stubs?.close();
    await kc?.cluster.cleanup();
  });

  test("raw Produce: a resend is answered with its offset; other records under the same sequence are refused", async () => {
    const c = new Conn(kc.brokers[0]);
    try {
      const init = await c.call(ApiKey.InitProducerId, 0, (w) => w.nullableString(null).int32(60000));
      init.int32("throttle");
      assert.equal(init.int16("error"), KafkaError.None);
      const producerId = init.int64("producer id");
      const epoch = init.int16("epoch");

      assert.deepEqual(await produce(c, "raw", idempotentBatch(producerId, epoch, 0, values("a"))), { error: KafkaError.None, offset: 0 });
      // The client did not learn the outcome and resends: same records, timestamps of the new attempt.
      assert.deepEqual(await produce(c, "raw", idempotentBatch(producerId, epoch, 0, values("a", 3, t0 + 5000))), { error: KafkaError.None, offset: 0 });
      // kafkajs's next send after giving up: new records, the same base sequence.
      const reused = await produce(c, "raw", idempotentBatch(producerId, epoch, 0, values("b")));
      assert.deepEqual(reused, { error: KafkaError.OutOfOrderSequenceNumber, offset: -1 });
      assert.deepEqual(await storedValues("raw"), ["a-0", "a-1", "a-2"], "the refused batch changed nothing");
      assert.deepEqual(await produce(c, "raw", idempotentBatch(producerId, epoch, 3, values("b"))), { error: KafkaError.None, offset: 3 });
      assert.deepEqual(await storedValues("raw"), ["a-0", "a-1", "a-2", "b-0", "b-1", "b-2"]);
    } finally {
      c.close();
    }
  });

  describe("kafkajs behind a connection-cutting proxy", () => {
    let proxy: CuttingProxy;
    let proxyPort: number;
    before(async () => {
      proxy = new CuttingProxy(kc.brokers[0]);
      proxyPort = await proxy.listen();
    });
    after(() => proxy?.close());

    /** A kafkajs client whose every connection goes through the proxy. */
    function kafka(clientId: string, retries: number): Kafka {
      return new Kafka({
        clientId,
        brokers: kc.brokers,
        logLevel: logLevel.NOTHING,
        retry: { retries, initialRetryTime: 100, maxRetryTime: 500 },
        socketFactory: ({ onConnect }) => net.connect({ host: "127.0.0.1", port: proxyPort }, onConnect),
      });
    }

    async function send(producer: Producer, topic: string, tag: string): Promise<number> {
      const [placed] = await producer.send({ topic, acks: -1, messages: values(tag).map((r) => ({ key: Buffer.from(r.key ?? []), value: Buffer.from(r.value), partition: 0 })) });
      return Number(placed.baseOffset);
    }

    test("the send after one whose answer never came reuses its sequence and is refused, not acknowledged", async () => {
      const producer = kafka("reuse", 1).producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      try {
        const cutBefore = proxy.cut;
        proxy.produceAnswersToCut = 2; // the attempt and kafkajs's one retry: the send fails, though appended
        await assert.rejects(send(producer, "kafkajs-reuse", "lost-answer"));
        assert.equal(proxy.cut - cutBefore, 2);
        await waitFor(async () => ((await storedValues("kafkajs-reuse")).length === 3 ? true : undefined), deadlineMs, "the first batch to be stored");

        await assert.rejects(send(producer, "kafkajs-reuse", "next"), (err: Error & { type?: string }) => err.type === "OUT_OF_ORDER_SEQUENCE_NUMBER");
        assert.deepEqual(await storedValues("kafkajs-reuse"), ["lost-answer-0", "lost-answer-1", "lost-answer-2"]);
      } finally {
        await producer.disconnect();
      }
      const fresh = kafka("reuse-fresh", 5).producer({ idempotent: true, maxInFlightRequests: 1 });
      await fresh.connect();
      try {
        assert.equal(await send(fresh, "kafkajs-reuse", "next"), 3, "a new producer stores the refused records");
      } finally {
        await fresh.disconnect();
      }
      assert.deepEqual(await storedValues("kafkajs-reuse"), [...values("lost-answer"), ...values("next")].map((r) => Buffer.from(r.value).toString()));
    });

    test("kafkajs's own resend after a lost answer (restamped records) is answered with the original offset", async () => {
      const producer = kafka("resend", 5).producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      try {
        assert.equal(await send(producer, "kafkajs-resend", "first"), 0);
        const cutBefore = proxy.cut;
        proxy.produceAnswersToCut = 1;
        assert.equal(await send(producer, "kafkajs-resend", "second"), 3, "the resend is acknowledged with the appended batch's offset");
        assert.equal(proxy.cut - cutBefore, 1);
        assert.equal(await send(producer, "kafkajs-resend", "third"), 6);
      } finally {
        await producer.disconnect();
      }
      assert.deepEqual(await storedValues("kafkajs-resend"), ["first", "second", "third"].flatMap((tag) => values(tag).map((r) => Buffer.from(r.value).toString())), "each record once");
    });
  });
});
