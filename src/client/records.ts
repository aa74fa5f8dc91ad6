// Records as SDK users write and read them, and their wire forms.
import type { ConsumedRecord__Output } from "../generated/raftline/v1/ConsumedRecord";
import type { Record as WireRecord } from "../generated/raftline/v1/Record";

/** Bytes, or a string sent as UTF-8. */
export type Bytes = Uint8Array | string;

export interface RecordHeader {
  key: string;
  value: Bytes;
}

export interface ProducerRecord {
  /** Absent and empty differ: an empty key is hashed to choose a partition, an absent one is not. */
  key?: Bytes;
  value: Bytes;
  /** Kept in order; keys may repeat. */
  headers?: RecordHeader[];
  /** Milliseconds since the Unix epoch; 0 or absent lets the leader stamp it. */
  timestampMs?: number;
}

/** Where one produced record landed. `offset` is -1 when acks was not "quorum" (assigned after the answer). */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: number;
}

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: number;
  timestampMs: number;
  /** Absent when the producer sent none. */
  key?: Buffer;
  value: Buffer;
  headers: { key: string; value: Buffer }[];
}

function byteLength(b: Bytes): number {
  return typeof b === "string" ? Buffer.byteLength(b, "utf8") : b.byteLength;
}

/** A record's size as every limit in the API counts it (proto/raftline/v1/records.proto). */
export function recordBytes(r: ProducerRecord): number {
  let n = byteLength(r.value) + (r.key === undefined ? 0 : byteLength(r.key));
  for (const h of r.headers ?? []) n += Buffer.byteLength(h.key, "utf8") + byteLength(h.value);
  return n;
}

// protobufjs reads a string given for a bytes field as base64, so strings become UTF-8 bytes here.
function toBytes(b: Bytes): Uint8Array {
  return typeof b === "string" ? Buffer.from(b, "utf8") : b;
}

export function toWireRecord(r: ProducerRecord): WireRecord {
  const wire: WireRecord = {
    value: toBytes(r.value),
    headers: (r.headers ?? []).map((h) => ({ key: h.key, value: toBytes(h.value) })),
    timestampMs: r.timestampMs ?? 0,
  };
  if (r.key !== undefined) wire.key = toBytes(r.key);
  return wire;
}

export function fromWireRecord(topic: string, partition: number, r: ConsumedRecord__Output): ConsumedRecord {
  const out: ConsumedRecord = {
    topic,
    partition,
    offset: r.offset,
    timestampMs: r.timestampMs,
    value: r.value,
    headers: r.headers.map((h) => ({ key: h.key, value: h.value })),
  };
  if (r.key !== undefined && r.key !== null) out.key = r.key;
  return out;
}
