// The Kafka codec against an independent implementation: batches encoded by kafkajs's own RecordBatch
// encoder (plain and gzip) decode here to the same records, our encoded batches decode back and pass
// the CRC, and a changed byte, a short batch or a lying count is refused. ApiVersions answers an
// unknown version in the v0 layout; array counts larger than the frame are refused before allocating.
// DescribeConfigs requests kafkajs encodes decode here, and our answers decode with kafkajs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { Compression, CorruptBatch, UnsupportedCompression, decodeBatches, writeBatch, type Decompress } from "../../src/kafka/record-batch-v2";
import { encodeApiVersionsResponse } from "../../src/kafka/metadata";
import { ApiKey, KafkaError, supportedVersions } from "../../src/kafka/protocol";
import { KafkaDecodeError, KafkaReader, KafkaWriter } from "../../src/kafka/wire";
import { frameSize } from "../../src/kafka/header";
import { decodeProduceRequest } from "../../src/kafka/produce";
import { ConfigSource, ResourceType, decodeDescribeConfigsRequest, encodeDescribeConfigsResponse } from "../../src/kafka/configs";

interface KafkajsEncoder {
  buffer: Buffer;
}
type KafkajsRecord = (r: { offsetDelta: number; timestampDelta: number; key: Buffer | null; value: Buffer | null; headers?: Record<string, Buffer> }) => KafkajsEncoder;
type KafkajsBatch = (b: { compression?: number; firstTimestamp: number; maxTimestamp: number; lastOffsetDelta: number; records: KafkajsEncoder[] }) => Promise<KafkajsEncoder>;

// kafkajs's internal encoders, as its producer uses them.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsRecord = require("kafkajs/src/protocol/recordBatch/record/v0") as KafkajsRecord;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsBatch = (require("kafkajs/src/protocol/recordBatch/v0") as { RecordBatch: KafkajsBatch }).RecordBatch;

const gzipOnly: Decompress = (codec, bytes) => {
  if (codec !== Compression.Gzip) throw new UnsupportedCompression(`codec ${codec}`);
  return gunzipSync(bytes);
};

async function kafkajsEncoded(compression = 0): Promise<Uint8Array> {
  const records = [
    kafkajsRecord({ offsetDelta: 0, timestampDelta: 0, key: Buffer.from([1, 2, 3]), value: Buffer.from("first"), headers: { trace: Buffer.from([0, 255]) } }),
    kafkajsRecord({ offsetDelta: 1, timestampDelta: 7, key: null, value: Buffer.from("second") }),
  ];
  const batch = await kafkajsBatch({ compression, firstTimestamp: 1700000000000, maxTimestamp: 1700000000007, lastOffsetDelta: 1, records });
  return batch.buffer;
}

test("batches kafkajs encodes, plain and gzip, decode to the records it was given", async () => {
  for (const compression of [0, 1]) {
    const [batch] = decodeBatches(await kafkajsEncoded(compression), gzipOnly, 100);
    assert.equal(batch.records.length, 2);
    const plain = (b: Uint8Array | null): Uint8Array | null => (b === null ? null : Uint8Array.from(b));
    const records = batch.records.map((r) => ({ ...r, key: plain(r.key), value: plain(r.value), headers: r.headers.map((h) => ({ key: h.key, value: Uint8Array.from(h.value) })) }));
    assert.deepEqual(records[0], { timestampMs: 1700000000000, key: new Uint8Array([1, 2, 3]), value: new Uint8Array(Buffer.from("first")), headers: [{ key: "trace", value: new Uint8Array([0, 255]) }] });
    assert.deepEqual(records[1], { timestampMs: 1700000000007, key: null, value: new Uint8Array(Buffer.from("second")), headers: [] });
  }
});

test("a batch we encode decodes back to the same records at the same offsets", () => {
  const w = new KafkaWriter();
  const records = [
    { timestampMs: 1700000000500, key: new Uint8Array([9]), value: new Uint8Array([1, 2]), headers: [{ key: "h", value: new Uint8Array([3]) }] },
    { timestampMs: 1700000000400, value: new Uint8Array(0), headers: [] },
  ];
  writeBatch(w, 42, records);
  const [batch] = decodeBatches(w.finish(), gzipOnly, 100);
  assert.equal(batch.baseOffset, 42);
  assert.deepEqual(batch.records.map((r) => [r.timestampMs, r.key, r.value, r.headers]), [
    [1700000000500, new Uint8Array([9]), new Uint8Array([1, 2]), [{ key: "h", value: new Uint8Array([3]) }]],
    [1700000000400, null, new Uint8Array(0), []],
  ]);
});

test("a changed byte, a cut batch, too many records or an unknown codec are refused", async () => {
  const good = await kafkajsEncoded();
  const flipped = Uint8Array.from(good);
  flipped[flipped.length - 1] ^= 1;
  assert.throws(() => decodeBatches(flipped, gzipOnly, 100), CorruptBatch);
  assert.throws(() => decodeBatches(good.subarray(0, good.length - 3), gzipOnly, 100), CorruptBatch);
  assert.throws(() => decodeBatches(good, gzipOnly, 1), CorruptBatch);
  const snappy = Uint8Array.from(good);
  snappy[22] = Compression.Snappy;
  assert.throws(() => decodeBatches(snappy, gzipOnly, 100), CorruptBatch, "the attributes are under the CRC");
  const lz4 = await kafkajsEncoded(1);
  assert.throws(() => decodeBatches(lz4, () => { throw new UnsupportedCompression("no"); }, 100), UnsupportedCompression);
});

test("ApiVersions answers an unsupported version in the v0 layout, listing every supported key", () => {
  const r = new KafkaReader(encodeApiVersionsResponse(0, KafkaError.UnsupportedVersion));
  assert.equal(r.int16("error"), KafkaError.UnsupportedVersion);
  const keys = r.array("keys", (r) => [r.int16("key"), r.int16("min"), r.int16("max")]);
  assert.equal(r.remaining, 0, "no throttle time in v0");
  assert.deepEqual(keys.find(([k]) => k === ApiKey.Produce), [ApiKey.Produce, 3, 8]);
  assert.equal(keys.length, supportedVersions.size);
});

test("frame sizes outside the bound and counts larger than the frame are refused", () => {
  assert.throws(() => frameSize(new Uint8Array([0x7f, 0xff, 0xff, 0xff]), 1024), KafkaDecodeError);
  assert.throws(() => frameSize(new Uint8Array([0xff, 0xff, 0xff, 0xff]), 1024), KafkaDecodeError);
  const lying = new KafkaWriter().nullableString(null).int16(-1).int32(1000).int32(0x7fffffff).finish();
  assert.throws(() => decodeProduceRequest(new KafkaReader(lying)), KafkaDecodeError);
});

interface KafkajsConfigEntry {
  configName: string;
  configValue: string | null;
  readOnly: boolean;
  isDefault: boolean;
  isSensitive: boolean;
  configSource?: number;
}
type KafkajsDescribeConfigs = (v: { version: number }) => (args: { resources: { type: number; name: string; configNames?: string[] | null }[]; includeSynonyms: boolean }) => {
  request: { encode(): Promise<KafkajsEncoder> };
  response: { decode(body: Buffer): Promise<{ resources: { errorCode: number; errorMessage: string | null; resourceName: string; configEntries: KafkajsConfigEntry[] }[] }> };
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsDescribeConfigs = (require("kafkajs/src/protocol/requests/describeConfigs") as { protocol: KafkajsDescribeConfigs }).protocol;

test("DescribeConfigs v0-v2: kafkajs's requests decode here, and kafkajs decodes our answers", async () => {
  for (const version of [0, 1, 2]) {
    const { request, response } = kafkajsDescribeConfigs({ version })({
      resources: [
        { type: ResourceType.Topic, name: "orders", configNames: ["retention.ms"] },
        { type: ResourceType.Broker, name: "1", configNames: [] },
      ],
      includeSynonyms: false,
    });
    const r = new KafkaReader((await request.encode()).buffer);
    assert.deepEqual(decodeDescribeConfigsRequest(r, version), [
      { resourceType: ResourceType.Topic, resourceName: "orders", configNames: ["retention.ms"] },
      { resourceType: ResourceType.Broker, resourceName: "1", configNames: null },
    ], "kafkajs sends an empty list as null: every config");
    assert.equal(r.remaining, 0, `v${version}: the whole request`);

    const body = encodeDescribeConfigsResponse(version, [
      {
        errorCode: KafkaError.None,
        errorMessage: null,
        resourceType: ResourceType.Topic,
        resourceName: "orders",
        configs: [
          { name: "retention.ms", value: "60000", readOnly: true, source: ConfigSource.DynamicTopicConfig, isSensitive: false },
          { name: "cleanup.policy", value: "delete", readOnly: true, source: ConfigSource.DefaultConfig, isSensitive: false },
        ],
      },
      { errorCode: KafkaError.UnknownTopicOrPartition, errorMessage: "no such topic", resourceType: ResourceType.Topic, resourceName: "gone", configs: [] },
    ]);
    const decoded = await response.decode(Buffer.from(body));
    assert.deepEqual(
      decoded.resources.map((res) => [res.resourceName, res.errorCode, res.configEntries.map((c) => [c.configName, c.configValue, c.readOnly, c.isDefault])]),
      [
        ["orders", 0, [["retention.ms", "60000", true, false], ["cleanup.policy", "delete", true, true]]],
        ["gone", KafkaError.UnknownTopicOrPartition, []],
      ],
      `v${version}`,
    );
    if (version >= 1) assert.deepEqual(decoded.resources[0].configEntries.map((c) => c.configSource), [ConfigSource.DynamicTopicConfig, ConfigSource.DefaultConfig]);
  }
});
