// Fetch (v4-v11) and ListOffsets (v1-v5). Fetch sessions (v7+) are declined: every answer has session
// id 0, which tells the client to keep sending full fetches.
import type { KafkaError } from "./protocol";
import { KafkaReader, KafkaWriter } from "./wire";

/** librdkafka refuses a null records field: a partition without records answers an empty one. */
const noRecords = new Uint8Array(0);

export interface FetchPartition {
  partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
}

export interface FetchRequest {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  topics: { name: string; partitions: FetchPartition[] }[];
}

export function decodeFetchRequest(r: KafkaReader, version: number): FetchRequest {
  r.int32("replica_id");
  const maxWaitMs = r.int32("max_wait_ms");
  const minBytes = r.int32("min_bytes");
  const maxBytes = r.int32("max_bytes");
  r.int8("isolation_level");
  if (version >= 7) {
    r.int32("session_id");
    r.int32("session_epoch");
  }
  const topics = r.array(
    "topics",
    (r) => ({
      name: r.string("topic"),
      partitions: r.array(
        "partitions",
        (r) => {
          const partition = r.int32("partition");
          if (version >= 9) r.int32("current_leader_epoch");
          const fetchOffset = r.int64("fetch_offset");
          if (version >= 5) r.int64("log_start_offset");
          return { partition, fetchOffset, partitionMaxBytes: r.int32("partition_max_bytes") };
        },
        16,
      ),
    }),
    6,
  );
  if (version >= 7) r.array("forgotten_topics_data", (r) => ({ name: r.string("topic"), partitions: r.array("partitions", (r) => r.int32("partition"), 4) }), 6);
  if (version >= 11) r.string("rack_id");
  return { maxWaitMs, minBytes, maxBytes, topics };
}

export interface FetchPartitionResponse {
  partition: number;
  errorCode: KafkaError;
  highWatermark: number;
  logStartOffset: number;
  /** Encoded RecordBatch v2s, or null for none. */
  records: Uint8Array | null;
}

export function encodeFetchResponse(version: number, topics: { name: string; partitions: FetchPartitionResponse[] }[]): Uint8Array {
  const w = new KafkaWriter(1024);
  w.int32(0);
  if (version >= 7) w.int16(0).int32(0);
  w.array(topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => {
      w.int32(p.partition).int16(p.errorCode).int64(p.highWatermark).int64(p.highWatermark);
      if (version >= 5) w.int64(p.logStartOffset);
      w.int32(-1);
      if (version >= 11) w.int32(-1);
      w.nullableBytes(p.records ?? noRecords);
    });
  });
  return w.finish();
}

/** ListOffsets' special timestamps. */
export const latestTimestamp = -1;
export const earliestTimestamp = -2;

export interface ListOffsetsRequest {
  topics: { name: string; partitions: { partition: number; timestamp: number }[] }[];
}

export function decodeListOffsetsRequest(r: KafkaReader, version: number): ListOffsetsRequest {
  r.int32("replica_id");
  if (version >= 2) r.int8("isolation_level");
  const topics = r.array(
    "topics",
    (r) => ({
      name: r.string("topic"),
      partitions: r.array(
        "partitions",
        (r) => {
          const partition = r.int32("partition");
          if (version >= 4) r.int32("current_leader_epoch");
          return { partition, timestamp: r.int64("timestamp") };
        },
        12,
      ),
    }),
    6,
  );
  return { topics };
}

export interface ListOffsetsPartitionResponse {
  partition: number;
  errorCode: KafkaError;
  timestamp: number;
  offset: number;
}

export function encodeListOffsetsResponse(version: number, topics: { name: string; partitions: ListOffsetsPartitionResponse[] }[]): Uint8Array {
  const w = new KafkaWriter();
  if (version >= 2) w.int32(0);
  w.array(topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => {
      w.int32(p.partition).int16(p.errorCode).int64(p.timestamp).int64(p.offset);
      if (version >= 4) w.int32(0);
    });
  });
  return w.finish();
}
