// The contract fuzzer's Kafka mode against a live three-node cluster (see test/support/fuzz/kafka-fuzzer.ts).
// FUZZ_SECONDS (default 20) bounds the run, FUZZ_SEED replays one; a failure prints its seed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startKafkaCluster } from "../support/kafka-cluster";
import { fuzzKafka, kafkaFuzzTopics } from "../support/fuzz/kafka-fuzzer";

const seconds = Number(process.env.FUZZ_SECONDS ?? 20);
const seed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;

test(`the Kafka listener answers or closes on random and mutated frames, and refused ones change nothing (seed ${seed}, ${seconds} s)`, { timeout: (seconds + 180) * 1000 }, async (t) => {
  assert.ok(Number.isInteger(seed) && seconds > 0, "FUZZ_SEED must be an integer and FUZZ_SECONDS positive");
  const { cluster, brokers } = await startKafkaCluster({ nodes: 3, extraArgs: ["--retention-check-ms", "3600000"] });
  await cluster.waitForLeader(15000);
  const admin = cluster.client().admin();
  for (const topic of kafkaFuzzTopics) await admin.createTopic(topic);
  t.diagnostic(`seed ${seed}`);
  const report = await fuzzKafka({ cluster, brokers, seed, seconds, replay: `FUZZ_SEED=${seed} FUZZ_SECONDS=${seconds} node --test dist/test/fuzz/kafka-fuzz.test.js` });
  t.diagnostic(`cases ${report.cases}: answered ${report.answered}, closed ${report.closed}; by api ${JSON.stringify(report.byApi)}`);
  assert.ok(report.answered > 0 && report.closed > 0);
});
