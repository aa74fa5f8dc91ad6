// The Kafka fuzzer's own power: with a listener bug planted in the nodes (see src/server/test-plants.ts:
// a frame that does not decode left unanswered and open; answers carrying the wrong correlation id), a
// bounded run with a fixed seed must find it and name its seed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FuzzFailure } from "../support/fuzz/fuzzer";
import { fuzzKafka, kafkaFuzzTopics } from "../support/fuzz/kafka-fuzzer";
import { startKafkaCluster } from "../support/kafka-cluster";

const maxSeconds = 60;

async function fuzzWithPlant(plant: string, seed: number): Promise<FuzzFailure> {
  const { cluster, brokers } = await startKafkaCluster({ nodes: 3, extraArgs: ["--retention-check-ms", "3600000"], env: { RAFTLINE_TEST_PLANT: plant } });
  await cluster.waitForLeader(15000);
  const admin = cluster.client().admin();
  for (const topic of kafkaFuzzTopics) await admin.createTopic(topic);
  const found = await fuzzKafka({ cluster, brokers, seed, seconds: maxSeconds, replay: `seed ${seed}` }).then(
    () => undefined,
    (err: unknown) => err,
  );
  assert.ok(found instanceof FuzzFailure, `the planted bug went unnoticed for ${maxSeconds} s: ${String(found)}`);
  assert.match(found.message, new RegExp(`seed ${seed}`));
  return found;
}

test("the Kafka fuzzer finds a frame left unanswered and open", { timeout: (maxSeconds + 120) * 1000 }, async () => {
  const found = await fuzzWithPlant("kafka-silent-refusal", 1);
  assert.match(found.message, /neither an answer nor a close/);
});

test("the Kafka fuzzer finds answers with the wrong correlation id", { timeout: (maxSeconds + 120) * 1000 }, async () => {
  const found = await fuzzWithPlant("kafka-wrong-correlation", 1);
  assert.match(found.message, /another correlation id/);
});
