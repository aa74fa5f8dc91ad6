// Produce (v3-v8): the first version carrying RecordBatch v2, up to the last before flexible encoding.
import type { KafkaError } from "./protocol";
import { KafkaReader, KafkaWriter } from "./wire";

export interface ProducePartitionData {
  partition: number;
  /** One or more RecordBatch v2, still encoded (decoded by the handler, which knows the limits). */
  records: Uint8Array | null;
}

export interface ProduceRequest {
  transactionalId: string | null;
  /** 0, 1 or -1 (all). */
  acks: number;
  timeoutMs: number;
  topics: { name: string; partitions: ProducePartitionData[] }[];
}

export function decodeProduceRequest(r: KafkaReader): ProduceRequest {
  const transactionalId = r.nullableString("transactional_id");
  const acks = r.int16("acks");
  const timeoutMs = r.int32("timeout_ms");
  const topics = r.array(
    "topic_data",
    (r) => ({
      name: r.string("topic name"),
      partitions: r.array("partition_data", (r) => ({ partition: r.int32("partition"), records: r.nullableBytes("records") }), 8),
    }),
    6,
  );
  return { transactionalId, acks, timeoutMs, topics };
}

export interface ProducePartitionResponse {
  partition: number;
  errorCode: KafkaError;
  baseOffset: number;
  logStartOffset: number;
  errorMessage: string | null;
}

export function encodeProduceResponse(version: number, topics: { name: string; partitions: ProducePartitionResponse[] }[]): Uint8Array {
  const w = new KafkaWriter();
  w.array(topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => {
      w.int32(p.partition).int16(p.errorCode).int64(p.baseOffset).int64(-1);
      if (version >= 5) w.int64(p.logStartOffset);
      if (version >= 8) w.array([], () => undefined).nullableString(p.errorMessage);
    });
  });
  w.int32(0);
  return w.finish();
}
