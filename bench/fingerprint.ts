// What apply's batch fingerprint (src/broker/batch-fingerprint.ts) costs every node per idempotent batch,
// beside the CRC-32C of the whole blob (what a fetch verifies) and the leader's encoding of the batch
// (what planProduce already spends on it). Single-threaded, in process, median of several runs.
//   npm run bench -- fingerprint [--runs=5] [--duration-ms=500]
import { performance } from "node:perf_hooks";
import { batchFingerprint } from "../src/broker/batch-fingerprint";
import { RecordInput, encodeRecordBatch, verifyRecordBatch } from "../src/broker/record-batch";
import { machineFacts, median, printTable, writeResults } from "./report";

const t0 = 1_700_000_000_000;
const shapes = [
  { records: 10, valueBytes: 100 },
  { records: 1000, valueBytes: 100 },
  { records: 10_000, valueBytes: 100 },
  { records: 1000, valueBytes: 1000 },
];

interface Options {
  runs: number;
  durationMs: number;
}

function parseOptions(args: string[]): Options {
  const options: Options = { runs: 5, durationMs: 500 };
  for (const arg of args) {
    const [flag, value] = arg.split("=");
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`bad value in ${arg}`);
    if (flag === "--runs") options.runs = n;
    else if (flag === "--duration-ms") options.durationMs = n;
    else throw new Error(`unknown flag ${flag}`);
  }
  return options;
}

/** Microseconds per call of `fn`, calling it for about `durationMs`. */
function microsPerCall(fn: () => void, durationMs: number): number {
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < durationMs) {
    fn();
    calls++;
    now = performance.now();
  }
  return ((now - start) * 1000) / calls;
}

export function runFingerprintBench(args: string[]): void {
  const options = parseOptions(args);
  const results = shapes.map((shape) => {
    const records: RecordInput[] = Array.from({ length: shape.records }, (_, i) => ({
      key: Buffer.from(`key-${i}`),
      value: Buffer.alloc(shape.valueBytes, i & 0xff),
      headers: [{ key: "origin", value: Buffer.from("bench") }],
    }));
    const blob = encodeRecordBatch(records, t0);
    const measure = (fn: () => void): number => {
      microsPerCall(fn, Math.min(options.durationMs, 200)); // warm-up
      return median(Array.from({ length: options.runs }, () => microsPerCall(fn, options.durationMs)));
    };
    const fingerprintUs = measure(() => batchFingerprint(blob));
    const crcUs = measure(() => verifyRecordBatch(blob));
    const encodeUs = measure(() => encodeRecordBatch(records, t0));
    return { ...shape, blobBytes: blob.length, fingerprintUs, crcUs, encodeUs, fingerprintMBPerSec: blob.length / fingerprintUs };
  });
  printTable(
    `fingerprint: per idempotent batch (records with a key, one header); median of ${options.runs} runs of ${options.durationMs} ms`,
    ["records x value bytes", "blob bytes", "fingerprint µs", "fingerprint MB/s", "whole-blob CRC µs", "leader's encode µs"],
    results.map((r) => [`${r.records} x ${r.valueBytes}`, r.blobBytes, r.fingerprintUs, r.fingerprintMBPerSec, r.crcUs, r.encodeUs]),
  );
  const path = writeResults("fingerprint", { bench: "fingerprint", at: new Date().toISOString(), machine: machineFacts(), options, results });
  console.log(`results written to ${path}`);
}
