// Read measurements: Fetch from offset 0 to the end (one request at a time) and Subscribe from the
// earliest offset, each checking that every record arrives once, in order and intact.
import { performance } from "node:perf_hooks";
import type { ConsumedRecord__Output } from "../src/generated/raftline/v1/ConsumedRecord";
import type { FetchResponse__Output } from "../src/generated/raftline/v1/FetchResponse";
import type { SubscribeResponse__Output } from "../src/generated/raftline/v1/SubscribeResponse";
import { CpuSeconds, cpuSince, sampleCpu } from "./broker-cpu";
import { sequenceOf } from "./broker-records";
import { NodeStubs, unaryCall } from "./broker-stubs";

export interface ReadParams {
  topic: string;
  recordBytes: number;
  /** Records to read, from offset 0. */
  records: number;
  /** Check each value's sequence number against its offset (only when the topic holds exactly what one producer sent, in order). */
  checkSequence: boolean;
  timeoutMs: number;
}

export interface ReadResult {
  records: number;
  seconds: number;
  recordsPerSec: number;
  mbPerSec: number;
  /** Records out of place or damaged. */
  bad: number;
  /** Answers (Fetch responses or Subscribe messages) it took. */
  responses: number;
  cpu: CpuSeconds;
}

/** Fetch asks for this much per request; 0 would mean the server's default (1 MiB). */
export const fetchMaxBytes = 1024 * 1024;
/** Long-poll bound of one Fetch, should the reader ever get ahead of the applied log. */
const fetchMaxWaitMs = 500;

class RecordChecker {
  bad = 0;
  next = 0;

  constructor(private readonly p: ReadParams) {}

  check(record: ConsumedRecord__Output): void {
    const intact = record.value.length === this.p.recordBytes && (!this.p.checkSequence || sequenceOf(record.value) === this.next);
    if (record.offset !== this.next || !intact) this.bad++;
    this.next++;
  }
}

function readResult(p: ReadParams, read: number, t0: number, responses: number, bad: number, cpu: CpuSeconds): ReadResult {
  const seconds = (performance.now() - t0) / 1000;
  return { records: read, seconds, recordsPerSec: read / seconds, mbPerSec: (read * p.recordBytes) / seconds / 1e6, bad, responses, cpu };
}

export async function fetchAll(stubs: NodeStubs, p: ReadParams, serverPids: readonly number[]): Promise<ReadResult> {
  const checker = new RecordChecker(p);
  const deadline = Date.now() + p.timeoutMs;
  const cpu0 = sampleCpu(serverPids);
  const t0 = performance.now();
  let responses = 0;
  while (checker.next < p.records) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`fetch: only ${checker.next}/${p.records} records within ${p.timeoutMs} ms`);
    const res = await unaryCall<FetchResponse__Output>(left, (o, cb) =>
      stubs.consumer.Fetch({ topic: p.topic, partition: 0, offset: checker.next, maxBytes: fetchMaxBytes, minBytes: 1, maxWaitMs: fetchMaxWaitMs }, o, cb),
    );
    responses++;
    for (const record of res.records) checker.check(record);
  }
  return readResult(p, checker.next, t0, responses, checker.bad, cpuSince(cpu0, serverPids));
}

export async function subscribeAll(stubs: NodeStubs, p: ReadParams, serverPids: readonly number[]): Promise<ReadResult> {
  const checker = new RecordChecker(p);
  const cpu0 = sampleCpu(serverPids);
  const t0 = performance.now();
  let responses = 0;
  const call = stubs.consumer.Subscribe({ topic: p.topic, partition: 0, position: "START_POSITION_EARLIEST" });
  await new Promise<void>((resolve, reject) => {
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      call.cancel();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => finish(new Error(`subscribe: only ${checker.next}/${p.records} records within ${p.timeoutMs} ms`)), p.timeoutMs);
    call.on("data", (res: SubscribeResponse__Output) => {
      responses++;
      for (const record of res.records) checker.check(record);
      if (checker.next >= p.records) finish();
    });
    call.on("error", (err: Error) => finish(new Error(`subscribe failed after ${checker.next} records: ${err.message}`)));
  });
  return readResult(p, checker.next, t0, responses, checker.bad, cpuSince(cpu0, serverPids));
}
