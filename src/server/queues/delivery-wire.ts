// ReceiveResponse.deliveries and PopResponse (proto/raftline/v1/queues.proto) encoded by hand from the
// records read for an acquisition, like the Subscribe answers (consumed-wire.ts): one Buffer per answer,
// no message object per record. The generated encoder still serves every other response (and a Pop
// answer a follower relays from the leader, which arrives decoded).
import type * as grpc from "@grpc/grpc-js";
import type { DecodedRecord } from "../../broker";
import type { ShareGroupsDefinition } from "../../generated/raftline/v1/ShareGroups";
import { headerBodySize, headerKeyKey, headersKey, headerValueKey, keyKey, offsetKey, timestampMsKey, valueKey } from "../record-fields";
import { fieldKey, lenFieldSize, uintFieldSize, varintSize, WireWriter, wireTypeLen, wireTypeVarint } from "../wire-writer";

/** One acquired record as it goes to its consumer. */
export interface DeliveryItem {
  partition: number;
  record: DecodedRecord;
  deliveryCount: number;
  lockUntilMs: number;
}

/** The records of one acquisition, for one group's topic. */
export interface DeliveryBatch {
  topic: string;
  items: DeliveryItem[];
}

// Delivery
const topicKey = fieldKey(1, wireTypeLen);
const partitionKey = fieldKey(2, wireTypeVarint);
const recordKey = fieldKey(3, wireTypeLen);
const deliveryCountKey = fieldKey(4, wireTypeVarint);
const lockExpiresKey = fieldKey(5, wireTypeVarint);
// ReceiveResponse.deliveries = 2 (a Deliveries: repeated Delivery = 1); PopResponse: consumer_id = 1, deliveries = 2.
const receiveDeliveriesKey = fieldKey(2, wireTypeLen);
const deliveriesDeliveryKey = fieldKey(1, wireTypeLen);
const popConsumerIdKey = fieldKey(1, wireTypeLen);
const popDeliveryKey = fieldKey(2, wireTypeLen);

const utf8 = new TextEncoder();

/** A record's parts sized once: header keys as UTF-8. */
interface Sized {
  item: DeliveryItem;
  headerKeys: Uint8Array[];
  recordBytes: number;
  deliveryBytes: number;
}

function size(topicBytes: number, item: DeliveryItem): Sized {
  const r = item.record;
  const headerKeys = r.headers.map((h) => utf8.encode(h.key));
  let recordBytes = uintFieldSize(r.offset) + uintFieldSize(r.timestampMs);
  if (r.key !== undefined) recordBytes += lenFieldSize(r.key.length);
  if (r.value.length > 0) recordBytes += lenFieldSize(r.value.length);
  r.headers.forEach((h, i) => (recordBytes += lenFieldSize(headerBodySize(headerKeys[i].length, h.value.length))));
  const deliveryBytes =
    (topicBytes > 0 ? lenFieldSize(topicBytes) : 0) +
    uintFieldSize(item.partition) +
    lenFieldSize(recordBytes) +
    uintFieldSize(item.deliveryCount) +
    uintFieldSize(item.lockUntilMs);
  return { item, headerKeys, recordBytes, deliveryBytes };
}

function bytesField(out: WireWriter, key: number, bytes: Uint8Array): void {
  out.bytesField(key, bytes, 0, bytes.length);
}

function writeDelivery(out: WireWriter, key: number, topic: Uint8Array, s: Sized): void {
  const { item, headerKeys, recordBytes, deliveryBytes } = s;
  const r = item.record;
  out.byte(key);
  out.varint(deliveryBytes);
  if (topic.length > 0) bytesField(out, topicKey, topic);
  out.uintField(partitionKey, item.partition);
  out.byte(recordKey);
  out.varint(recordBytes);
  out.uintField(offsetKey, r.offset);
  out.uintField(timestampMsKey, r.timestampMs);
  if (r.key !== undefined) bytesField(out, keyKey, r.key);
  if (r.value.length > 0) bytesField(out, valueKey, r.value);
  r.headers.forEach((h, i) => {
    out.byte(headersKey);
    out.varint(headerBodySize(headerKeys[i].length, h.value.length));
    if (headerKeys[i].length > 0) bytesField(out, headerKeyKey, headerKeys[i]);
    if (h.value.length > 0) bytesField(out, headerValueKey, h.value);
  });
  out.uintField(deliveryCountKey, item.deliveryCount);
  out.uintField(lockExpiresKey, item.lockUntilMs);
}

function sizedAll(batch: DeliveryBatch): { topic: Uint8Array; sized: Sized[]; bytes: number } {
  const topic = utf8.encode(batch.topic);
  const sized = batch.items.map((item) => size(topic.length, item));
  return { topic, sized, bytes: sized.reduce((n, s) => n + lenFieldSize(s.deliveryBytes), 0) };
}

/** A ReceiveResponse carrying `deliveries`. */
export function encodeReceiveDeliveries(batch: DeliveryBatch): Buffer {
  const { topic, sized, bytes } = sizedAll(batch);
  const out = new WireWriter(lenFieldSize(bytes));
  out.byte(receiveDeliveriesKey);
  out.varint(bytes);
  for (const s of sized) writeDelivery(out, deliveriesDeliveryKey, topic, s);
  return out.finish();
}

/** A PopResponse. */
export function encodePopResponse(consumerId: string, batch: DeliveryBatch): Buffer {
  const id = utf8.encode(consumerId);
  const { topic, sized, bytes } = sizedAll(batch);
  const out = new WireWriter((id.length > 0 ? 1 + varintSize(id.length) + id.length : 0) + bytes);
  if (id.length > 0) bytesField(out, popConsumerIdKey, id);
  for (const s of sized) writeDelivery(out, popDeliveryKey, topic, s);
  return out.finish();
}

/** The generated ShareGroups definition, with Receive and Pop sending bytes encoded here as they are. */
export function shareGroupsServiceDefinition(generated: ShareGroupsDefinition): grpc.ServiceDefinition {
  const accepting = <M extends { responseSerialize: (value: never) => Buffer }>(method: M): M => {
    const serialize = method.responseSerialize as (value: unknown) => Buffer;
    return { ...method, responseSerialize: (value: unknown) => (Buffer.isBuffer(value) ? value : serialize(value)) };
  };
  return { ...generated, Receive: accepting(generated.Receive), Pop: accepting(generated.Pop) };
}
