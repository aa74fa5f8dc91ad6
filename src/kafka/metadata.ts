// ApiVersions (v0-v2) and Metadata (v0-v8).
import { KafkaError, supportedVersions } from "./protocol";
import { KafkaReader, KafkaWriter } from "./wire";

/** ApiVersions has an empty body in v0-v2; an unsupported version is answered in the v0 layout. */
export function encodeApiVersionsResponse(version: number, errorCode: KafkaError): Uint8Array {
  const w = new KafkaWriter();
  w.int16(errorCode);
  w.array([...supportedVersions], (w, [key, range]) => w.int16(key).int16(range.min).int16(range.max));
  if (version >= 1) w.int32(0);
  return w.finish();
}

export interface MetadataRequest {
  /** null: every topic. */
  topics: string[] | null;
  allowAutoTopicCreation: boolean;
}

export function decodeMetadataRequest(r: KafkaReader, version: number): MetadataRequest {
  const topics = r.nullableArray("topics", (r) => r.string("topic"), 2);
  // v0 has no null: an empty list asks for every topic.
  const all = topics === null || (version === 0 && topics.length === 0);
  const allowAutoTopicCreation = version >= 4 ? r.boolean("allow_auto_topic_creation") : true;
  if (version >= 8) {
    r.boolean("include_cluster_authorized_operations");
    r.boolean("include_topic_authorized_operations");
  }
  return { topics: all ? null : topics, allowAutoTopicCreation };
}

export interface BrokerAddress {
  nodeId: number;
  host: string;
  port: number;
}

export interface PartitionMetadata {
  errorCode: KafkaError;
  partition: number;
  leaderId: number;
  replicas: number[];
}

export interface TopicMetadata {
  errorCode: KafkaError;
  name: string;
  partitions: PartitionMetadata[];
}

export interface MetadataResponse {
  brokers: BrokerAddress[];
  clusterId: string;
  controllerId: number;
  topics: TopicMetadata[];
}

/** Raftline has no leader epochs visible to clients: every epoch field says 0. */
export function encodeMetadataResponse(version: number, res: MetadataResponse): Uint8Array {
  const w = new KafkaWriter();
  if (version >= 3) w.int32(0);
  w.array(res.brokers, (w, b) => {
    w.int32(b.nodeId).string(b.host).int32(b.port);
    if (version >= 1) w.nullableString(null);
  });
  if (version >= 2) w.nullableString(res.clusterId);
  if (version >= 1) w.int32(res.controllerId);
  w.array(res.topics, (w, t) => {
    w.int16(t.errorCode).string(t.name);
    if (version >= 1) w.boolean(false);
    w.array(t.partitions, (w, p) => {
      w.int16(p.errorCode).int32(p.partition).int32(p.leaderId);
      if (version >= 7) w.int32(0);
      w.array(p.replicas, (w, id) => w.int32(id));
      w.array(p.replicas, (w, id) => w.int32(id));
      if (version >= 5) w.array([], () => undefined);
    });
    if (version >= 8) w.int32(-2147483648);
  });
  if (version >= 8) w.int32(-2147483648);
  return w.finish();
}

