// Produce measurements against one node (the leader): a pipelined ProduceStream with a bounded window of
// requests in flight, each carrying a batch of records, and unary Produce one record at a time.
import { performance } from "node:perf_hooks";
import type { ProduceResponse__Output } from "../src/generated/raftline/v1/ProduceResponse";
import { CpuSeconds, cpuSince, sampleCpu } from "./broker-cpu";
import { recordRange } from "./broker-records";
import { latencySummary } from "./broker-stats";
import { NodeStubs, unaryCall } from "./broker-stubs";

export interface ProduceResult {
  records: number;
  seconds: number;
  recordsPerSec: number;
  /** Payload megabytes (1e6 bytes of record values) per second. */
  mbPerSec: number;
  /** Per request: from writing it to reading its answer. */
  p50Ms: number;
  p99Ms: number;
  errors: number;
  firstError?: string;
  cpu: CpuSeconds;
}

export interface PipelineParams {
  topic: string;
  recordBytes: number;
  records: number;
  windowRequests: number;
  batchRecords: number;
  timeoutMs: number;
}

function result(records: number, recordBytes: number, seconds: number, latenciesMs: ArrayLike<number>, cpu: CpuSeconds, errors: number, firstError?: string): ProduceResult {
  return {
    records,
    seconds,
    recordsPerSec: records / seconds,
    mbPerSec: (records * recordBytes) / seconds / 1e6,
    ...latencySummary(latenciesMs),
    errors,
    firstError,
    cpu,
  };
}

/** Keeps `windowRequests` ProduceStream requests of `batchRecords` records in flight until all are answered. */
export async function producePipelined(stubs: NodeStubs, p: PipelineParams, serverPids: readonly number[]): Promise<ProduceResult> {
  const requests = Math.ceil(p.records / p.batchRecords);
  const startedMs = new Float64Array(requests);
  const latenciesMs = new Float64Array(requests);
  const stream = stubs.producer.ProduceStream({ deadline: Date.now() + p.timeoutMs });
  const cpu0 = sampleCpu(serverPids);
  const t0 = performance.now();
  let errors = 0;
  let firstError: string | undefined;
  await new Promise<void>((resolve, reject) => {
    let sent = 0;
    let answered = 0;
    const pump = (): void => {
      while (sent - answered < p.windowRequests && sent < requests) {
        const i = sent++;
        const first = i * p.batchRecords;
        const count = Math.min(p.batchRecords, p.records - first);
        startedMs[i] = performance.now();
        stream.write({ correlationId: i, batches: [{ topic: p.topic, partition: 0, records: recordRange(first, count, p.recordBytes) }] });
      }
    };
    stream.on("data", (res: ProduceResponse__Output) => {
      const i = res.correlationId;
      latenciesMs[i] = performance.now() - startedMs[i];
      answered++;
      if (res.error) {
        errors++;
        firstError ??= `${res.error.reason}: ${res.error.message}`;
      }
      if (answered === requests) {
        stream.end();
        resolve();
      } else {
        pump();
      }
    });
    stream.on("error", (err: Error) => {
      if (answered < requests) reject(new Error(`ProduceStream failed after ${answered}/${requests} answers: ${err.message}`));
    });
    pump();
  });
  const seconds = (performance.now() - t0) / 1000;
  return result(p.records, p.recordBytes, seconds, latenciesMs, cpuSince(cpu0, serverPids), errors, firstError);
}

export interface UnaryParams {
  topic: string;
  recordBytes: number;
  records: number;
  /** The whole run; each call gets what is left of it. */
  timeoutMs: number;
}

/** Unary Produce of one record, awaiting each answer before the next call. */
export async function produceOneAtATime(stubs: NodeStubs, p: UnaryParams, serverPids: readonly number[]): Promise<ProduceResult> {
  const latenciesMs = new Float64Array(p.records);
  const deadline = Date.now() + p.timeoutMs;
  const cpu0 = sampleCpu(serverPids);
  const t0 = performance.now();
  let errors = 0;
  let firstError: string | undefined;
  for (let i = 0; i < p.records; i++) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`one-at-a-time produce: only ${i}/${p.records} records within ${p.timeoutMs} ms`);
    const started = performance.now();
    try {
      await unaryCall(left, (o, cb) =>
        stubs.producer.Produce({ batches: [{ topic: p.topic, partition: 0, records: recordRange(i, 1, p.recordBytes) }] }, o, cb),
      );
    } catch (err) {
      errors++;
      firstError ??= (err as Error).message;
    }
    latenciesMs[i] = performance.now() - started;
  }
  const seconds = (performance.now() - t0) / 1000;
  return result(p.records, p.recordBytes, seconds, latenciesMs, cpuSince(cpu0, serverPids), errors, firstError);
}
