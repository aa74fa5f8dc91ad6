// Bad input on the Kafka listener of a real node: an ApiVersions it cannot parse is answered in the v0
// layout and the connection lives on; unknown API keys, oversized or negative sizes and truncated bodies
// close the connection; a writer that stops mid-frame is closed once idle; a produced batch with a bad
// CRC is refused with CORRUPT_MESSAGE and appends nothing; a long poll naming an unknown partition is
// answered at once. The node keeps serving throughout.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { writeBatch } from "../../src/kafka/record-batch-v2";
import { ApiKey, KafkaError } from "../../src/kafka/protocol";
import { KafkaReader, KafkaWriter } from "../../src/kafka/wire";
import { startKafkaCluster, type KafkaCluster } from "../support/kafka-cluster";
import { waitFor } from "../support/wait";

const idleMs = 2000;
const deadlineMs = 20000;
let kc: KafkaCluster;

/** A connection that collects answers and notices being closed. */
class Conn {
  private readonly socket: net.Socket;
  private received = Buffer.alloc(0);
  closed = false;

  constructor(address: string) {
    const at = address.lastIndexOf(":");
    this.socket = net.connect(Number(address.slice(at + 1)), address.slice(0, at));
    this.socket.on("data", (b: Buffer) => (this.received = Buffer.concat([this.received, b])));
    this.socket.on("close", () => (this.closed = true));
    this.socket.on("error", () => undefined);
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next answer frame's bytes after its size. */
  async answer(): Promise<KafkaReader> {
    const frame = await waitFor(() => {
      if (this.received.length < 4) return undefined;
      const size = this.received.readInt32BE(0);
      if (this.received.length < 4 + size) return undefined;
      const out = this.received.subarray(4, 4 + size);
      this.received = this.received.subarray(4 + size);
      return out;
    }, deadlineMs, "an answer");
    return new KafkaReader(frame);
  }

  async closedByNode(): Promise<void> {
    await waitFor(() => this.closed, deadlineMs, "the node to close the connection");
  }

  close(): void {
    this.socket.destroy();
  }
}

function request(key: number, version: number, correlationId: number, body: (w: KafkaWriter) => void = () => undefined): Uint8Array {
  const w = new KafkaWriter();
  w.int32(0).int16(key).int16(version).int32(correlationId).nullableString("bad-input");
  body(w);
  const frame = w.finish();
  new DataView(frame.buffer, frame.byteOffset).setInt32(0, frame.length - 4);
  return frame;
}

describe("bad input on the Kafka listener", () => {
  before(async () => {
    kc = await startKafkaCluster({ nodes: 1, cleanupAfter: false, extraArgs: ["--max-connection-idle-ms", String(idleMs)] });
    await kc.cluster.waitForLeader(deadlineMs);
    await kc.cluster.client().admin().createTopic({ name: "guarded", partitions: 1 });
  });
  after(async () => {
    await kc?.cluster.cleanup();
  });

  test("an ApiVersions version it does not speak is answered in the v0 layout, and the connection lives on", async () => {
    const c = new Conn(kc.brokers[0]);
    try {
      // v3 is flexible: a tagged-field byte after the header and compact strings in the body.
      c.write(request(ApiKey.ApiVersions, 3, 7, (w) => w.int8(0).int8(1).int8(1).int8(0)));
      const r = await c.answer();
      assert.equal(r.int32("correlation id"), 7);
      assert.equal(r.int16("error"), KafkaError.UnsupportedVersion);
      const keys = r.array("keys", (r) => [r.int16("key"), r.int16("min"), r.int16("max")]);
      assert.deepEqual(keys.find(([k]) => k === ApiKey.ApiVersions), [ApiKey.ApiVersions, 0, 2]);
      c.write(request(ApiKey.ApiVersions, 2, 8));
      const again = await c.answer();
      assert.equal(again.int32("correlation id"), 8);
      assert.equal(again.int16("error"), KafkaError.None);
    } finally {
      c.close();
    }
  });

  const closing: [string, Uint8Array][] = [
    ["an unknown API key", request(999, 0, 1)],
    ["an unsupported version of a known key", request(ApiKey.Produce, 2, 1)],
    ["a size beyond the bound", new KafkaWriter().int32(0x7fff_ffff).int32(0).finish()],
    ["a negative size", new KafkaWriter().int32(-5).finish()],
    ["a body cut short", request(ApiKey.Metadata, 1, 1, (w) => w.int32(5))],
    ["trailing bytes after the body", request(ApiKey.Metadata, 1, 1, (w) => w.int32(-1).int32(12345))],
  ];
  for (const [what, frame] of closing) {
    test(`${what} closes the connection`, async () => {
      const c = new Conn(kc.brokers[0]);
      c.write(frame);
      await c.closedByNode();
    });
  }

  test("a writer that stops mid-frame is closed once idle", async () => {
    const c = new Conn(kc.brokers[0]);
    c.write(request(ApiKey.Metadata, 1, 1, (w) => w.int32(-1)).subarray(0, 9));
    await c.closedByNode();
  });

  test("a long-poll Fetch naming an unknown partition is answered at once with its error, not after max_wait", async () => {
    // max_wait 30 s and min_bytes 1 on an empty topic: only the unknown partition's error can end the wait
    // before this test's own deadline.
    const fetch = request(ApiKey.Fetch, 4, 7, (w) =>
      w
        .int32(-1)
        .int32(30000)
        .int32(1)
        .int32(1 << 20)
        .int8(0)
        .array(["guarded"], (w, t) => w.string(t).array([0, 9], (w, p) => w.int32(p).int64(0).int32(1 << 20))),
    );
    const c = new Conn(kc.brokers[0]);
    try {
      c.write(fetch);
      const r = await c.answer();
      assert.equal(r.int32("correlation id"), 7);
      r.int32("throttle");
      assert.equal(r.int32("topics"), 1);
      r.string("topic");
      assert.equal(r.int32("partitions"), 2);
      const errors: number[] = [];
      for (let i = 0; i < 2; i++) {
        r.int32("partition");
        errors.push(r.int16("error"));
        r.int64("high watermark");
        r.int64("last stable offset");
        r.array("aborted", (r) => r.int64("producer id"));
        r.nullableBytes("records");
      }
      assert.deepEqual(errors, [KafkaError.None, KafkaError.UnknownTopicOrPartition]);
    } finally {
      c.close();
    }
  });

  test("a batch with a bad CRC is refused with CORRUPT_MESSAGE and appends nothing; the node keeps serving", async () => {
    const batch = new KafkaWriter();
    writeBatch(batch, 0, [{ timestampMs: 1700000000000, value: Uint8Array.of(1, 2, 3), headers: [] }]);
    const corrupt = Uint8Array.from(batch.finish());
    corrupt[corrupt.length - 1] ^= 0xff;
    const produce = (records: Uint8Array, id: number): Uint8Array =>
      request(ApiKey.Produce, 7, id, (w) => w.nullableString(null).int16(-1).int32(5000).array(["guarded"], (w, t) => w.string(t).array([0], (w, p) => w.int32(p).nullableBytes(records))));
    const c = new Conn(kc.brokers[0]);
    try {
      const partitionAnswer = async (r: KafkaReader): Promise<{ error: number; offset: number }> => {
        r.int32("correlation id");
        r.int32("topics");
        r.string("topic");
        r.int32("partitions");
        r.int32("partition");
        return { error: r.int16("error"), offset: r.int64("base offset") };
      };
      c.write(produce(corrupt, 1));
      assert.equal((await partitionAnswer(await c.answer())).error, KafkaError.CorruptMessage);
      c.write(produce(batch.finish(), 2));
      assert.deepEqual(await partitionAnswer(await c.answer()), { error: KafkaError.None, offset: 0 }, "the refused batch took no offset");
    } finally {
      c.close();
    }
    assert.ok(kc.cluster.nodes.every((n) => n.running));
  });
});
