// `npm run bench -- metrics`: what metrics cost. (1) The rpc interceptor on a bare unary echo, server
// and client in this process, with and without it, rounds alternating; (2) one /metrics scrape of the
// partition area as the number of partitions grows. Medians over rounds.
import * as grpc from "@grpc/grpc-js";
import { Registry } from "prom-client";
import type { BrokerState } from "../src/broker";
import type { MetricsSources } from "../src/server/metrics/metrics-area";
import { partitionMetrics } from "../src/server/metrics/partition-metrics";
import { rpcInterceptor } from "../src/server/metrics/rpc-metrics";
import { echoHandlers, echoServiceDefinition } from "./grpc-echo-service";
import { machineFacts, median, printTable, writeResults } from "./report";

const rounds = 5;
const callsPerRound = 4000;
const concurrency = 16;
const scrapesPerSize = 15;
const partitionCounts = [10, 100, 1000, 10000];

async function echoServer(interceptors: grpc.ServerInterceptor[]): Promise<{ address: string; stop(): void }> {
  const server = new grpc.Server({ interceptors });
  server.addService(echoServiceDefinition, echoHandlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { address: `127.0.0.1:${port}`, stop: () => server.forceShutdown() };
}

/** Calls per second of `callsPerRound` echo calls, `concurrency` at a time. */
async function echoRate(address: string): Promise<number> {
  const Client = grpc.makeGenericClientConstructor(echoServiceDefinition, "Echo");
  const client = new Client(address, grpc.credentials.createInsecure());
  const payload = Buffer.alloc(64);
  const call = (): Promise<void> =>
    new Promise((resolve, reject) => client.makeUnaryRequest(echoServiceDefinition.Echo.path, (b: Buffer) => b, (b: Buffer) => b, payload, (err) => (err ? reject(err) : resolve())));
  await Promise.all(Array.from({ length: concurrency }, call)); // connect and warm up
  let left = callsPerRound;
  const startNs = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await call();
    }),
  );
  const seconds = Number(process.hrtime.bigint() - startNs) / 1e9;
  client.close();
  return callsPerRound / seconds;
}

function fakeSources(partitions: number): MetricsSources {
  const perTopic = Math.min(partitions, 100);
  const topics = Array.from({ length: Math.ceil(partitions / perTopic) }, (_, i) => ({ name: `topic-${i}`, partitions: perTopic }));
  const state = {
    listTopics: () => topics,
    describeTopic: (name: string) => ({
      topic: topics.find((t) => t.name === name),
      partitions: Array.from({ length: perTopic }, (_, p) => ({ partition: p, startOffset: 1000, highWatermark: 123456789, bytes: 987654321 })),
    }),
  } as unknown as BrokerState;
  return { nodeId: 1, dataDir: "", replica: undefined as unknown as MetricsSources["replica"], state: () => state, damaged: () => false };
}

async function scrapeMs(partitions: number): Promise<number> {
  const registry = new Registry();
  partitionMetrics(registry, fakeSources(partitions));
  const times: number[] = [];
  for (let i = 0; i < scrapesPerSize; i++) {
    const startNs = process.hrtime.bigint();
    await registry.metrics();
    times.push(Number(process.hrtime.bigint() - startNs) / 1e6);
  }
  return median(times);
}

export async function runMetricsBench(): Promise<void> {
  const plain = await echoServer([]);
  const metered = await echoServer([rpcInterceptor(new Registry())]);
  const without: number[] = [];
  const withMetrics: number[] = [];
  for (let r = 0; r < rounds; r++) {
    without.push(await echoRate(plain.address));
    withMetrics.push(await echoRate(metered.address));
  }
  plain.stop();
  metered.stop();
  const rateWithout = median(without);
  const rateWith = median(withMetrics);
  const costUs = (1 / rateWith - 1 / rateWithout) * 1e6;
  printTable(
    `unary echo, ${callsPerRound} calls x ${rounds} rounds, ${concurrency} in flight, median`,
    ["server", "calls/s", "µs/call"],
    [
      ["no interceptor", Math.round(rateWithout), (1e6 / rateWithout).toFixed(1)],
      ["rpc metrics", Math.round(rateWith), (1e6 / rateWith).toFixed(1)],
    ],
  );
  console.log(`interceptor cost: ${costUs.toFixed(1)} µs per call (${(((rateWithout - rateWith) / rateWithout) * 100).toFixed(1)}% of a bare echo)\n`);
  const scrapes: { partitions: number; ms: number }[] = [];
  for (const partitions of partitionCounts) scrapes.push({ partitions, ms: await scrapeMs(partitions) });
  printTable(`one scrape of the partition metrics, median of ${scrapesPerSize}`, ["partitions", "ms"], scrapes.map((s) => [s.partitions, s.ms.toFixed(2)]));
  const path = writeResults("metrics", { machine: machineFacts(), echo: { rateWithout, rateWith, costUs, without, withMetrics }, scrapes });
  console.log(`\nresults: ${path}`);
}
