// The contract fuzzer's Kafka mode: seeded valid and mutated Kafka frames (flipped bytes, cut frames,
// junk appended, other api keys and versions, lying sizes, garbage, frames written a byte at a time) to
// every node's Kafka listener, one connection per case. Each case must end in an answer carrying its
// correlation id or in the node closing the connection, within a deadline; a frame the node closed on,
// or a Produce it refused for every partition, must leave the cluster's state as it was; no node may
// crash or log an error. The same seed replays the same cases.
import * as net from "node:net";
import { writeBatch } from "../../../src/kafka/record-batch-v2";
import { ApiKey, supportedVersions } from "../../../src/kafka/protocol";
import { KafkaReader, KafkaWriter } from "../../../src/kafka/wire";
import { maxWaitMsCeiling } from "../../../src/server/services/consumer-service";
import type { Cluster } from "../cluster";
import { Prng } from "../sim/prng";
import { ClusterState, topicsOf } from "./cluster-state";
import { checkNodes, FuzzFailure } from "./fuzzer";

export interface KafkaFuzzOptions {
  cluster: Cluster;
  /** Every node's Kafka listener, in node order. */
  brokers: string[];
  seed: number;
  seconds: number;
  replay: string;
}

export interface KafkaFuzzReport {
  seed: number;
  cases: number;
  answered: number;
  closed: number;
  byApi: Record<string, number>;
}

export const kafkaFuzzTopics = [{ name: "kfuzz", partitions: 2 }];
/** A case's answer or close must come within this long, beyond the wait a Fetch case asks for. */
const caseDeadlineMs = 5000;
/** How long an incomplete frame is left waiting before the fuzzer ends its side of the connection. */
const incompleteWaitMs = 100;
const logCheckEveryCases = 50;

/** APIs whose valid requests change nothing durable, so any state change after a mutation is a bug. */
const readApis = [ApiKey.ApiVersions, ApiKey.Metadata, ApiKey.Fetch, ApiKey.ListOffsets, ApiKey.FindCoordinator, ApiKey.Heartbeat, ApiKey.OffsetFetch, ApiKey.DescribeConfigs];

function header(w: KafkaWriter, key: number, version: number, correlationId: number): void {
  w.int16(key).int16(version).int32(correlationId).nullableString("fuzz");
}

function body(prng: Prng, key: ApiKey, version: number): KafkaWriter {
  const w = new KafkaWriter();
  const topic = prng.chance(0.8) ? "kfuzz" : "nope";
  const partition = prng.int(-1, 2);
  switch (key) {
    case ApiKey.ApiVersions:
      break;
    case ApiKey.Metadata:
      w.array([topic], (w, t) => w.string(t));
      if (version >= 4) w.boolean(false);
      if (version >= 8) w.boolean(false).boolean(false);
      break;
    case ApiKey.Produce: {
      const batch = new KafkaWriter();
      writeBatch(batch, 0, [{ timestampMs: 1700000000000 + prng.int(0, 1000), key: null, value: Uint8Array.of(prng.int(0, 255)), headers: [] }]);
      w.nullableString(null).int16(-1).int32(1000);
      w.array([topic], (w, t) => w.string(t).array([partition], (w, p) => w.int32(p).nullableBytes(batch.finish())));
      break;
    }
    case ApiKey.Fetch:
      w.int32(-1).int32(prng.int(0, 50)).int32(prng.int(0, 10)).int32(1 << 20).int8(0);
      if (version >= 7) w.int32(0).int32(-1);
      w.array([topic], (w, t) =>
        w.string(t).array([partition], (w, p) => {
          w.int32(p);
          if (version >= 9) w.int32(-1);
          w.int64(prng.int(-1, 5));
          if (version >= 5) w.int64(-1);
          w.int32(1 << 20);
        }),
      );
      if (version >= 7) w.int32(0);
      if (version >= 11) w.string("");
      break;
    case ApiKey.ListOffsets:
      w.int32(-1);
      if (version >= 2) w.int8(0);
      w.array([topic], (w, t) =>
        w.string(t).array([partition], (w, p) => {
          w.int32(p);
          if (version >= 4) w.int32(-1);
          w.int64(prng.int(-3, 2));
        }),
      );
      break;
    case ApiKey.FindCoordinator:
      w.string("g");
      if (version >= 1) w.int8(0);
      break;
    case ApiKey.Heartbeat:
      w.string("g").int32(prng.int(-1, 3)).string("m");
      if (version >= 3) w.nullableString(null);
      break;
    case ApiKey.OffsetFetch:
      w.string("g").array([topic], (w, t) => w.string(t).array([0, 1], (w, p) => w.int32(p)));
      break;
    case ApiKey.DescribeConfigs: {
      // Mostly topics, sometimes this or another broker, sometimes a resource type that does not exist.
      const type = prng.chance(0.6) ? 2 : prng.chance(0.7) ? 4 : prng.int(-1, 5);
      w.array([type], (w, t) => {
        w.int8(t).string(t === 4 ? String(prng.int(0, 4)) : topic);
        if (prng.chance(0.5)) w.int32(-1);
        else w.array(["retention.ms", "broker.id", "nope"].slice(0, prng.int(0, 3)), (w, name) => w.string(name));
      });
      if (version >= 1) w.boolean(prng.chance(0.5));
      break;
    }
    default:
      throw new Error(`no generator for api ${key}`);
  }
  return w;
}

interface Case {
  frame: Uint8Array;
  api: string;
  /** Write one byte at a time (a slow writer); the frame completes well within the node's frame timeout. */
  trickle: boolean;
  /** The frame is the valid request unchanged. */
  valid: boolean;
  /** The size prefix claims more bytes than follow: the node rightly waits for them. */
  incomplete: boolean;
  /** How long the node may rightly hold the case before answering (a Fetch's max_wait). */
  waitMs: number;
}

/**
 * The max_wait the node will read from a Fetch frame (its ceiling applied): a flipped bit can raise it
 * from the generated 0..50 ms, and a flipped client id length moves where the node reads it, so then
 * anything up to the ceiling is right.
 */
function fetchWaitMs(frame: Uint8Array): number {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.length);
  if (frame.length < 6 || view.getInt16(4) !== ApiKey.Fetch) return 0;
  if (frame.length < 26 || view.getInt16(12) !== "fuzz".length) return maxWaitMsCeiling;
  return Math.min(Math.max(view.getInt32(22), 0), maxWaitMsCeiling);
}

function makeCase(prng: Prng, correlationId: number): Case {
  const apis = [...readApis, ApiKey.Produce];
  const key = apis[prng.int(0, apis.length - 1)];
  const range = supportedVersions.get(key) ?? { min: 0, max: 0 };
  const version = prng.int(range.min, range.max);
  const w = new KafkaWriter();
  w.int32(0);
  header(w, key, version, correlationId);
  w.raw(body(prng, key, version).finish());
  let frame = Uint8Array.from(w.finish());
  new DataView(frame.buffer).setInt32(0, frame.length - 4);
  let valid = true;
  const mutation = prng.int(0, 9);
  if (mutation >= 3) {
    valid = false;
    const view = new DataView(frame.buffer);
    switch (mutation) {
      case 3:
        for (let i = prng.int(1, 4); i > 0; i--) frame[prng.int(4, frame.length - 1)] ^= 1 << prng.int(0, 7);
        break;
      case 4:
        frame = frame.subarray(0, prng.int(4, frame.length - 1));
        view.setInt32(0, frame.length - 4);
        break;
      case 5: {
        const junk = Uint8Array.from({ length: prng.int(1, 16) }, () => prng.int(0, 255));
        const longer = new Uint8Array(frame.length + junk.length);
        longer.set(frame);
        longer.set(junk, frame.length);
        frame = longer;
        new DataView(frame.buffer).setInt32(0, frame.length - 4);
        break;
      }
      case 6:
        view.setInt16(4, prng.chance(0.5) ? prng.int(-5, 80) : key);
        view.setInt16(6, prng.int(-2, 20));
        break;
      case 7:
        view.setInt32(0, prng.chance(0.5) ? 0x7fffffff : prng.int(-100, 7));
        break;
      case 8:
        frame = Uint8Array.from({ length: prng.int(4, 64) }, () => prng.int(0, 255));
        break;
      default:
        view.setInt32(0, frame.length - 4 + prng.int(1, 100));
    }
  }
  const claimed = frame.length >= 4 ? new DataView(frame.buffer, frame.byteOffset).getInt32(0) : 0;
  return { frame, api: ApiKey[key] ?? String(key), trickle: prng.chance(0.05), valid, incomplete: claimed > frame.length - 4, waitMs: fetchWaitMs(frame) };
}

/** What became of a case: an answer frame (its bytes after the size) or the node closing. */
async function send(address: string, c: Case): Promise<{ answer?: Uint8Array; closed: boolean }> {
  const at = address.lastIndexOf(":");
  const socket = net.connect(Number(address.slice(at + 1)), address.slice(0, at));
  let received = Buffer.alloc(0);
  try {
    return await new Promise((resolve, reject) => {
      // A frame that claims more bytes than were sent rightly waits for the rest: ending our side must
      // then close the connection. Any other frame must be answered or closed by the node itself.
      const timer = setTimeout(
        () => {
          if (c.incomplete) socket.end();
          setTimeout(() => reject(new Error("neither an answer nor a close")), caseDeadlineMs).unref();
        },
        c.incomplete ? incompleteWaitMs : c.waitMs + caseDeadlineMs,
      );
      socket.on("data", (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
          clearTimeout(timer);
          resolve({ answer: received.subarray(4, 4 + received.readInt32BE(0)), closed: false });
        }
      });
      socket.on("close", () => {
        clearTimeout(timer);
        resolve({ closed: true });
      });
      socket.on("error", () => undefined);
      socket.on("connect", async () => {
        if (!c.trickle) {
          socket.write(c.frame);
          return;
        }
        for (const byte of c.frame) {
          if (socket.destroyed) return;
          socket.write(Uint8Array.of(byte));
          await new Promise((r) => setImmediate(r));
        }
      });
    });
  } finally {
    socket.destroy();
  }
}

/** True when a Produce answer refused every partition (v3+ layout: topics, partitions, error code). */
function produceAllRefused(answer: Uint8Array): boolean {
  try {
    const r = new KafkaReader(answer, 4);
    const codes = r.array("topics", (r) => {
      r.string("name");
      return r.array("partitions", (r) => {
        r.int32("partition");
        const code = r.int16("error");
        r.pos = r.data.length;
        return code;
      });
    });
    return codes.flat().every((code) => code !== 0);
  } catch {
    return false;
  }
}

export async function fuzzKafka(options: KafkaFuzzOptions): Promise<KafkaFuzzReport> {
  const { cluster, brokers, seed } = options;
  const prng = new Prng(seed);
  const state = new ClusterState(cluster);
  const report: KafkaFuzzReport = { seed, cases: 0, answered: 0, closed: 0, byApi: {} };
  const logOffsets = new Map<number, number>();
  const endMs = Date.now() + options.seconds * 1000;
  let before = await state.settled();
  while (Date.now() < endMs) {
    const correlationId = report.cases + 1;
    const c = makeCase(prng, correlationId);
    const node = prng.int(1, brokers.length);
    const fail = (what: string): never => {
      const frame = Buffer.from(c.frame).toString("hex");
      throw new FuzzFailure(`case ${report.cases} (${c.api} to node ${node}, valid ${c.valid}, trickle ${c.trickle}): ${what}\nframe ${frame}\nreplay: ${options.replay}`, seed, report.cases);
    };
    let outcome: { answer?: Uint8Array; closed: boolean };
    try {
      outcome = await send(brokers[node - 1], c);
    } catch (err) {
      return fail((err as Error).message);
    }
    report.cases++;
    report.byApi[c.api] = (report.byApi[c.api] ?? 0) + 1;
    if (outcome.answer) {
      report.answered++;
      // A mutation may have changed the correlation id itself: the answer must echo what was sent.
      const sent = c.frame.length >= 12 ? new DataView(c.frame.buffer, c.frame.byteOffset).getInt32(8) : correlationId;
      if (outcome.answer.length < 4 || new DataView(outcome.answer.buffer, outcome.answer.byteOffset).getInt32(0) !== sent) {
        fail(`the answer carries another correlation id than ${sent}`);
      }
    } else report.closed++;
    const refused = outcome.closed || (c.api === "Produce" && outcome.answer !== undefined && produceAllRefused(outcome.answer));
    const mayWrite = c.api === "Produce" || !c.valid;
    if (mayWrite) {
      // A refused frame was never proposed, so one read shows any change; an accepted write may still be
      // landing, so the state is read until it settles.
      const after = refused ? await state.read() : await state.settled();
      if (refused && topicsOf(after) !== topicsOf(before)) fail(`a refused frame changed the state:\nbefore ${before}\nafter  ${after}`);
      before = after;
    }
    if (report.cases % logCheckEveryCases === 0) checkNodes(cluster, logOffsets, fail);
  }
  checkNodes(cluster, logOffsets, (what) => {
    throw new FuzzFailure(`${what}\nreplay: ${options.replay}`, seed, report.cases);
  });
  return report;
}

