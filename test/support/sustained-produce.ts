// Full-rate pipelined produce for a fixed time, counting what was acknowledged and what failed (a failure
// is data, not a reason to stop): the load of the memory bench and of the memory-budget test.
import { performance } from "node:perf_hooks";
import type { ProducerClient } from "../../src/generated/raftline/v1/Producer";
import type { ProduceResponse__Output } from "../../src/generated/raftline/v1/ProduceResponse";

export interface SustainedProduce {
  topic: string;
  recordBytes: number;
  batchRecords: number;
  windowRequests: number;
  seconds: number;
}

export interface SustainedResult {
  recordsAcked: number;
  mibAcked: number;
  failedRequests: number;
  firstError?: string;
  seconds: number;
}

/** Keeps `windowRequests` requests in flight on one ProduceStream until `seconds` have passed. */
export function produceFor(producer: ProducerClient, p: SustainedProduce): Promise<SustainedResult> {
  const t0 = performance.now();
  const stopAt = Date.now() + p.seconds * 1000;
  // The stream's own deadline leaves room for the last answers after the load stops.
  const stream = producer.ProduceStream({ deadline: stopAt + 30000 });
  // Values are not checked here, only counted: one shared buffer serves every record.
  const value = Buffer.alloc(p.recordBytes, 0x78);
  const records = Array.from({ length: p.batchRecords }, () => ({ value }));
  let sent = 0;
  let answered = 0;
  let acked = 0;
  let failed = 0;
  let firstError: string | undefined;
  return new Promise((resolve) => {
    const finish = (): void => {
      const seconds = (performance.now() - t0) / 1000;
      resolve({ recordsAcked: acked, mibAcked: (acked * p.recordBytes) / 2 ** 20, failedRequests: failed, firstError, seconds });
    };
    const pump = (): void => {
      while (sent - answered < p.windowRequests && Date.now() < stopAt) {
        stream.write({ correlationId: sent, batches: [{ topic: p.topic, partition: 0, records }] });
        sent++;
      }
      if (answered === sent && Date.now() >= stopAt) {
        stream.end();
        finish();
      }
    };
    stream.on("data", (res: ProduceResponse__Output) => {
      answered++;
      if (res.error) {
        failed++;
        firstError ??= `${res.error.reason}: ${res.error.message}`;
      } else {
        acked += p.batchRecords;
      }
      pump();
    });
    stream.on("error", (err: Error) => {
      failed += sent - answered;
      firstError ??= err.message;
      finish();
    });
    pump();
  });
}
