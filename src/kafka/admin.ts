// InitProducerId (v0-v1), CreateTopics (v0-v4), DeleteTopics (v0-v3).
import type { KafkaError } from "./protocol";
import { KafkaReader, KafkaWriter } from "./wire";

export function decodeInitProducerIdRequest(r: KafkaReader): { transactionalId: string | null } {
  const transactionalId = r.nullableString("transactional_id");
  r.int32("transaction_timeout_ms");
  return { transactionalId };
}

export function encodeInitProducerIdResponse(res: { errorCode: KafkaError; producerId: number; producerEpoch: number }): Uint8Array {
  return new KafkaWriter(20).int32(0).int16(res.errorCode).int64(res.producerId).int16(res.producerEpoch).finish();
}

export interface CreateTopicSpec {
  name: string;
  /** -1: the server's default. */
  numPartitions: number;
  replicationFactor: number;
  hasAssignments: boolean;
  configs: { name: string; value: string | null }[];
}

export interface CreateTopicsRequest {
  topics: CreateTopicSpec[];
  timeoutMs: number;
  validateOnly: boolean;
}

export function decodeCreateTopicsRequest(r: KafkaReader, version: number): CreateTopicsRequest {
  const topics = r.array(
    "topics",
    (r) => {
      const name = r.string("topic");
      const numPartitions = r.int32("num_partitions");
      const replicationFactor = r.int16("replication_factor");
      const assignments = r.array("assignments", (r) => ({ partition: r.int32("partition"), brokers: r.array("broker_ids", (r) => r.int32("broker"), 4) }), 8);
      const configs = r.array("configs", (r) => ({ name: r.string("config name"), value: r.nullableString("config value") }), 4);
      return { name, numPartitions, replicationFactor, hasAssignments: assignments.length > 0, configs };
    },
    16,
  );
  const timeoutMs = r.int32("timeout_ms");
  const validateOnly = version >= 1 ? r.boolean("validate_only") : false;
  return { topics, timeoutMs, validateOnly };
}

export interface TopicResult {
  name: string;
  errorCode: KafkaError;
  errorMessage: string | null;
}

export function encodeCreateTopicsResponse(version: number, topics: TopicResult[]): Uint8Array {
  const w = new KafkaWriter();
  if (version >= 2) w.int32(0);
  w.array(topics, (w, t) => {
    w.string(t.name).int16(t.errorCode);
    if (version >= 1) w.nullableString(t.errorMessage);
  });
  return w.finish();
}

export function decodeDeleteTopicsRequest(r: KafkaReader): { names: string[]; timeoutMs: number } {
  const names = r.array("topic_names", (r) => r.string("topic"), 2);
  return { names, timeoutMs: r.int32("timeout_ms") };
}

export function encodeDeleteTopicsResponse(version: number, topics: TopicResult[]): Uint8Array {
  const w = new KafkaWriter();
  if (version >= 1) w.int32(0);
  w.array(topics, (w, t) => w.string(t.name).int16(t.errorCode));
  return w.finish();
}
