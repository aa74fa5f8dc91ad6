// The Kafka listener's configuration: a node listens on --kafka-address or on its own --kafka-member
// entry, advertises every member, and refuses malformed entries.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, resolveConfig } from "../../src/server/config";

const base = { id: 2, members: "1=127.0.0.1:7001,127.0.0.1:7101;2=127.0.0.1:7002,127.0.0.1:7102", dataDir: "/nowhere" };

test("without Kafka settings there is no listener", () => {
  const config = resolveConfig(base);
  assert.equal(config.kafkaAddress, undefined);
  assert.deepEqual(config.kafkaMembers, []);
});

test("a node listens on its own member entry and advertises them all, in id order", () => {
  const config = resolveConfig({ ...base, kafkaMembers: "2=127.0.0.1:9093;1=127.0.0.1:9092" });
  assert.equal(config.kafkaAddress, "127.0.0.1:9093");
  assert.deepEqual(config.kafkaMembers, [
    { id: 1, address: "127.0.0.1:9092" },
    { id: 2, address: "127.0.0.1:9093" },
  ]);
});

test("--kafka-address wins over the node's own member entry", () => {
  const config = resolveConfig({ ...base, kafkaMembers: "1=127.0.0.1:9092;2=127.0.0.1:9093", kafkaAddress: "127.0.0.1:19093" });
  assert.equal(config.kafkaAddress, "127.0.0.1:19093");
  assert.equal(config.kafkaMembers.find((m) => m.id === 2)?.address, "127.0.0.1:19093");
});

test("malformed entries and addresses are refused", () => {
  assert.throws(() => resolveConfig({ ...base, kafkaMembers: "x=127.0.0.1:9092" }), ConfigError);
  assert.throws(() => resolveConfig({ ...base, kafkaMembers: "1=nohostport" }), ConfigError);
  assert.throws(() => resolveConfig({ ...base, kafkaAddress: "9092" }), ConfigError);
});
