import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import * as protoLoader from "@grpc/proto-loader";

const protoFiles = [
  "raftline/v1/records.proto",
  "raftline/v1/errors.proto",
  "raftline/v1/producer.proto",
  "raftline/v1/consumer.proto",
  "raftline/v1/admin.proto",
  "raftline/v1/groups.proto",
  "raftline/v1/queues.proto",
];

// Compiled tests run from different output directories; find the repository by its proto folder.
function protoRoot(): string {
  const maxLevelsUp = 8;
  let dir = __dirname;
  for (let level = 0; level < maxLevelsUp; level++) {
    if (existsSync(join(dir, "proto", "raftline", "v1"))) return join(dir, "proto");
    dir = dirname(dir);
  }
  throw new Error("proto/raftline/v1 not found above " + __dirname);
}

const definition = protoLoader.loadSync(protoFiles, {
  includeDirs: [protoRoot()],
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
});

function service(name: string): protoLoader.ServiceDefinition {
  const found = definition[`raftline.v1.${name}`];
  assert.ok(found && !("format" in found), `service ${name} exists`);
  return found as protoLoader.ServiceDefinition;
}

function message(name: string): protoLoader.MessageTypeDefinition<object, object> {
  const found = definition[`raftline.v1.${name}`];
  assert.ok(found && "format" in found, `message ${name} exists`);
  return found as protoLoader.MessageTypeDefinition<object, object>;
}

test("every service has its rpcs with the documented streaming shape", () => {
  const shapes: Record<string, Record<string, [boolean, boolean]>> = {
    Producer: { Produce: [false, false], ProduceStream: [true, true], InitProducer: [false, false] },
    Consumer: { Fetch: [false, false], Subscribe: [false, true] },
    Admin: {
      CreateTopic: [false, false],
      DeleteTopic: [false, false],
      ListTopics: [false, false],
      DescribeTopic: [false, false],
      DescribeCluster: [false, false],
      TransferLeadership: [false, false],
      AddNode: [false, false],
      RemoveNode: [false, false],
      ReplaceNode: [false, false],
      PromoteLearner: [false, false],
      AddAcl: [false, false],
      RemoveAcl: [false, false],
      ListAcls: [false, false],
      CreateToken: [false, false],
      DeleteToken: [false, false],
      ListTokens: [false, false],
      WhoAmI: [false, false],
    },
    ConsumerGroups: {
      Join: [true, true],
      CommitOffsets: [false, false],
      FetchOffsets: [false, false],
      ListGroups: [false, false],
      DescribeGroup: [false, false],
      DeleteGroup: [false, false],
      ResetOffsets: [false, false],
    },
    ShareGroups: {
      CreateShareGroup: [false, false],
      Receive: [true, true],
      Pop: [false, false],
      Ack: [false, false],
      DescribeShareGroup: [false, false],
      ListShareGroups: [false, false],
      DeleteShareGroup: [false, false],
    },
  };
  for (const [serviceName, rpcs] of Object.entries(shapes)) {
    const svc = service(serviceName);
    assert.deepEqual(Object.keys(svc).sort(), Object.keys(rpcs).sort());
    for (const [rpc, [requestStream, responseStream]] of Object.entries(rpcs)) {
      assert.equal(svc[rpc].requestStream, requestStream, `${serviceName}.${rpc} request stream`);
      assert.equal(svc[rpc].responseStream, responseStream, `${serviceName}.${rpc} response stream`);
    }
  }
});

test("a produce request round-trips, keeping unset partition and absent key distinct from zero/empty", () => {
  const produce = service("Producer").Produce;
  const decoded = produce.requestDeserialize(
    produce.requestSerialize({
      correlationId: 7,
      batches: [
        { topic: "a", records: [{ value: Buffer.from("x") }] },
        { topic: "b", partition: 0, records: [{ key: Buffer.alloc(0), value: Buffer.from("y") }] },
      ],
    }),
  ) as {
    correlationId: number;
    acks: string;
    batches: { topic: string; partition?: number; records: { key?: Buffer; timestampMs: number }[] }[];
  };
  assert.equal(decoded.correlationId, 7);
  assert.equal(decoded.acks, "ACKS_QUORUM", "quorum is the default");
  assert.equal(decoded.batches[0].partition, undefined);
  assert.equal(decoded.batches[0].records[0].key, undefined);
  assert.equal(decoded.batches[0].records[0].timestampMs, 0);
  assert.equal(decoded.batches[1].partition, 0);
  assert.deepEqual(decoded.batches[1].records[0].key, Buffer.alloc(0));
});

test("the idempotent producer's fields keep the numbers reserved for them (8, 9, 10)", () => {
  const type = message("ProduceBatch").type as { field: { name: string; number: number }[] };
  const numbers = Object.fromEntries(type.field.map((f) => [f.name, f.number]));
  assert.equal(numbers.producerId, 8);
  assert.equal(numbers.producerEpoch, 9);
  assert.equal(numbers.baseSequence, 10);
});

test("enums start at their documented zero values", () => {
  const enumValues = (name: string): string[] =>
    ((definition[`raftline.v1.${name}`] as protoLoader.EnumTypeDefinition).type as { value: { name: string; number: number }[] }).value
      .filter((v) => v.number === 0)
      .map((v) => v.name);
  assert.deepEqual(enumValues("Acks"), ["ACKS_QUORUM"]);
  assert.deepEqual(enumValues("StartPosition"), ["START_POSITION_UNSPECIFIED"]);
  assert.deepEqual(enumValues("ErrorReason"), ["ERROR_REASON_UNSPECIFIED"]);
  assert.deepEqual(enumValues("NodeRole"), ["NODE_ROLE_UNSPECIFIED"]);
  assert.deepEqual(enumValues("GroupState"), ["GROUP_STATE_UNSPECIFIED"]);
});
