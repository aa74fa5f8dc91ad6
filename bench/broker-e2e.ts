// End-to-end latency: from the moment a producer sends a record to the moment a subscriber receives it,
// with subscribers on the leader and on a follower, while one producer sends one record at a time.
import { performance } from "node:perf_hooks";
import type { SubscribeResponse__Output } from "../src/generated/raftline/v1/SubscribeResponse";
import { recordRange, sequenceOf } from "./broker-records";
import { LatencySummary, latencySummary } from "./broker-stats";
import { NodeStubs, unaryCall } from "./broker-stubs";

export interface EndToEndParams {
  /** A new, empty topic: subscribers start at offset 0 so none can miss the first record. */
  topic: string;
  recordBytes: number;
  records: number;
  timeoutMs: number;
}

export interface EndToEndResult {
  records: number;
  /** Keyed by the role of the node the subscriber reads from. */
  leader: LatencySummary;
  follower: LatencySummary;
}

interface Receiver {
  latenciesMs: Float64Array;
  received: number;
  done: Promise<void>;
  cancel(): void;
}

function subscribeFromZero(stubs: NodeStubs, p: EndToEndParams, sentAtMs: Float64Array): Receiver {
  const latenciesMs = new Float64Array(p.records);
  const call = stubs.consumer.Subscribe({ topic: p.topic, partition: 0, offset: 0 });
  const receiver: Receiver = { latenciesMs, received: 0, done: Promise.resolve(), cancel: () => call.cancel() };
  receiver.done = new Promise<void>((resolve, reject) => {
    call.on("data", (res: SubscribeResponse__Output) => {
      const now = performance.now();
      for (const record of res.records) {
        const seq = sequenceOf(record.value);
        if (seq >= 0 && seq < p.records) latenciesMs[seq] = now - sentAtMs[seq];
        receiver.received++;
      }
      if (receiver.received >= p.records) resolve();
    });
    call.on("error", (err: Error) => {
      if (receiver.received < p.records) reject(new Error(`subscriber on ${stubs.address} failed after ${receiver.received} records: ${err.message}`));
    });
  });
  // Settled below; a subscriber failing while the producer still runs must not go unhandled.
  receiver.done.catch(() => undefined);
  return receiver;
}

export async function endToEnd(producerAt: NodeStubs, leaderAt: NodeStubs, followerAt: NodeStubs, p: EndToEndParams): Promise<EndToEndResult> {
  const sentAtMs = new Float64Array(p.records);
  const receivers = [subscribeFromZero(leaderAt, p, sentAtMs), subscribeFromZero(followerAt, p, sentAtMs)];
  const deadline = Date.now() + p.timeoutMs;
  try {
    for (let i = 0; i < p.records; i++) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`end-to-end: only ${i}/${p.records} records sent within ${p.timeoutMs} ms`);
      sentAtMs[i] = performance.now();
      await unaryCall(left, (o, cb) =>
        producerAt.producer.Produce({ batches: [{ topic: p.topic, partition: 0, records: recordRange(i, 1, p.recordBytes) }] }, o, cb),
      );
    }
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("end-to-end: subscribers did not receive every record in time")), Math.max(0, deadline - Date.now()));
    });
    try {
      await Promise.race([Promise.all(receivers.map((r) => r.done)), expired]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    for (const r of receivers) r.cancel();
  }
  return { records: p.records, leader: latencySummary(receivers[0].latenciesMs), follower: latencySummary(receivers[1].latenciesMs) };
}
