// The hand-written Receive and Pop answers decode, with the generated decoder, to exactly what the
// generated encoder would have sent for the same deliveries.
import { test } from "node:test";
import assert from "node:assert/strict";
import { publicApi } from "../../src/server/public-proto";
import { encodePopResponse, encodeReceiveDeliveries, shareGroupsServiceDefinition, type DeliveryBatch } from "../../src/server/queues/delivery-wire";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

const batch: DeliveryBatch = {
  topic: "jobs",
  items: [
    { partition: 0, record: { offset: 0, timestampMs: 0, value: new Uint8Array(0), headers: [] }, deliveryCount: 1, lockUntilMs: 1_700_000_030_000 },
    {
      partition: 3,
      record: { offset: 2 ** 40, timestampMs: 1_700_000_000_123, key: new Uint8Array(0), value: new Uint8Array(300).fill(7), headers: [{ key: "é", value: bytes("v") }, { key: "", value: new Uint8Array(0) }] },
      deliveryCount: 5,
      lockUntilMs: 1,
    },
    { partition: 1, record: { offset: 9, timestampMs: 5, key: bytes("k"), value: bytes("x"), headers: [] }, deliveryCount: 2, lockUntilMs: 2 ** 50 },
  ],
};

function viaGenerated(b: DeliveryBatch): unknown[] {
  return b.items.map((i) => ({
    topic: b.topic,
    partition: i.partition,
    record: { offset: i.record.offset, timestampMs: i.record.timestampMs, value: i.record.value, headers: i.record.headers, ...(i.record.key ? { key: i.record.key } : {}) },
    deliveryCount: i.deliveryCount,
    lockExpiresAtMs: i.lockUntilMs,
  }));
}

test("Receive deliveries and Pop answers encoded by hand equal the generated encoding", () => {
  const generated = publicApi().ShareGroups.service;
  const receive = generated.Receive;
  const pop = generated.Pop;
  const expectedReceive = receive.responseSerialize({ deliveries: { deliveries: viaGenerated(batch) } } as never);
  assert.deepEqual(receive.responseDeserialize(encodeReceiveDeliveries(batch)), receive.responseDeserialize(expectedReceive));
  const expectedPop = pop.responseSerialize({ consumerId: "pop-1", deliveries: viaGenerated(batch) } as never);
  assert.deepEqual(pop.responseDeserialize(encodePopResponse("pop-1", batch)), pop.responseDeserialize(expectedPop));
  assert.deepEqual(pop.responseDeserialize(encodePopResponse("pop-1", { topic: "", items: [] })), pop.responseDeserialize(pop.responseSerialize({ consumerId: "pop-1", deliveries: [] })));
});

test("the service definition sends bytes as they are and still encodes message objects", () => {
  const def = shareGroupsServiceDefinition(publicApi().ShareGroups.service);
  const encoded = encodePopResponse("c", batch);
  assert.equal(def.Pop.responseSerialize(encoded), encoded);
  const relayed = { consumerId: "c", deliveries: [] };
  assert.deepEqual(def.Pop.responseSerialize(relayed), publicApi().ShareGroups.service.Pop.responseSerialize(relayed));
});
