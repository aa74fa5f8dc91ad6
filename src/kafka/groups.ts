// The group APIs: FindCoordinator (v0-v2), JoinGroup (v0-v5), SyncGroup (v0-v3), Heartbeat (v0-v3),
// LeaveGroup (v0-v3), OffsetCommit (v2-v7), OffsetFetch (v1-v5).
import type { KafkaError } from "./protocol";
import { KafkaReader, KafkaWriter } from "./wire";

export function decodeFindCoordinatorRequest(r: KafkaReader, version: number): { key: string; keyType: number } {
  const key = r.string("key");
  return { key, keyType: version >= 1 ? r.int8("key_type") : 0 };
}

export function encodeFindCoordinatorResponse(
  version: number,
  res: { errorCode: KafkaError; nodeId: number; host: string; port: number },
): Uint8Array {
  const w = new KafkaWriter();
  if (version >= 1) w.int32(0);
  w.int16(res.errorCode);
  if (version >= 1) w.nullableString(null);
  return w.int32(res.nodeId).string(res.host).int32(res.port).finish();
}

export interface JoinGroupRequest {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  protocols: { name: string; metadata: Uint8Array }[];
}

export function decodeJoinGroupRequest(r: KafkaReader, version: number): JoinGroupRequest {
  const groupId = r.string("group_id");
  const sessionTimeoutMs = r.int32("session_timeout_ms");
  const rebalanceTimeoutMs = version >= 1 ? r.int32("rebalance_timeout_ms") : sessionTimeoutMs;
  const memberId = r.string("member_id");
  const groupInstanceId = version >= 5 ? r.nullableString("group_instance_id") : null;
  const protocolType = r.string("protocol_type");
  const protocols = r.array("protocols", (r) => ({ name: r.string("protocol name"), metadata: r.bytes("protocol metadata") }), 6);
  return { groupId, sessionTimeoutMs, rebalanceTimeoutMs, memberId, groupInstanceId, protocolType, protocols };
}

export interface JoinGroupResponse {
  errorCode: KafkaError;
  generationId: number;
  protocolName: string;
  leader: string;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; metadata: Uint8Array }[];
}

export function encodeJoinGroupResponse(version: number, res: JoinGroupResponse): Uint8Array {
  const w = new KafkaWriter();
  if (version >= 2) w.int32(0);
  w.int16(res.errorCode).int32(res.generationId).string(res.protocolName).string(res.leader).string(res.memberId);
  w.array(res.members, (w, m) => {
    w.string(m.memberId);
    if (version >= 5) w.nullableString(m.groupInstanceId);
    w.nullableBytes(m.metadata);
  });
  return w.finish();
}

export interface SyncGroupRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  assignments: { memberId: string; assignment: Uint8Array }[];
}

export function decodeSyncGroupRequest(r: KafkaReader, version: number): SyncGroupRequest {
  const groupId = r.string("group_id");
  const generationId = r.int32("generation_id");
  const memberId = r.string("member_id");
  if (version >= 3) r.nullableString("group_instance_id");
  const assignments = r.array("assignments", (r) => ({ memberId: r.string("member_id"), assignment: r.bytes("assignment") }), 6);
  return { groupId, generationId, memberId, assignments };
}

export function encodeSyncGroupResponse(version: number, errorCode: KafkaError, assignment: Uint8Array): Uint8Array {
  const w = new KafkaWriter();
  if (version >= 1) w.int32(0);
  return w.int16(errorCode).nullableBytes(assignment).finish();
}

export interface HeartbeatRequest {
  groupId: string;
  generationId: number;
  memberId: string;
}

export function decodeHeartbeatRequest(r: KafkaReader, version: number): HeartbeatRequest {
  const groupId = r.string("group_id");
  const generationId = r.int32("generation_id");
  const memberId = r.string("member_id");
  if (version >= 3) r.nullableString("group_instance_id");
  return { groupId, generationId, memberId };
}

/** Heartbeat's answer; also the shape of v0 LeaveGroup's. */
export function encodeErrorOnlyResponse(version: number, errorCode: KafkaError): Uint8Array {
  const w = new KafkaWriter(8);
  if (version >= 1) w.int32(0);
  return w.int16(errorCode).finish();
}

export function decodeLeaveGroupRequest(r: KafkaReader, version: number): { groupId: string; memberIds: string[] } {
  const groupId = r.string("group_id");
  if (version < 3) return { groupId, memberIds: [r.string("member_id")] };
  const memberIds = r.array("members", (r) => {
    const id = r.string("member_id");
    r.nullableString("group_instance_id");
    return id;
  }, 4);
  return { groupId, memberIds };
}

export function encodeLeaveGroupResponse(version: number, errorCode: KafkaError, members: { memberId: string; errorCode: KafkaError }[]): Uint8Array {
  const w = new KafkaWriter();
  if (version >= 1) w.int32(0);
  w.int16(errorCode);
  if (version >= 3) w.array(members, (w, m) => w.string(m.memberId).nullableString(null).int16(m.errorCode));
  return w.finish();
}

export interface OffsetCommitRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  topics: { name: string; partitions: { partition: number; offset: number; metadata: string | null }[] }[];
}

export function decodeOffsetCommitRequest(r: KafkaReader, version: number): OffsetCommitRequest {
  const groupId = r.string("group_id");
  const generationId = r.int32("generation_id");
  const memberId = r.string("member_id");
  if (version >= 7) r.nullableString("group_instance_id");
  if (version <= 4) r.int64("retention_time_ms");
  const topics = r.array(
    "topics",
    (r) => ({
      name: r.string("topic"),
      partitions: r.array(
        "partitions",
        (r) => {
          const partition = r.int32("partition");
          const offset = r.int64("committed_offset");
          if (version >= 6) r.int32("committed_leader_epoch");
          return { partition, offset, metadata: r.nullableString("committed_metadata") };
        },
        14,
      ),
    }),
    6,
  );
  return { groupId, generationId, memberId, topics };
}

export type PartitionErrors = { name: string; partitions: { partition: number; errorCode: KafkaError }[] }[];

export function encodeOffsetCommitResponse(version: number, topics: PartitionErrors): Uint8Array {
  const w = new KafkaWriter();
  if (version >= 3) w.int32(0);
  w.array(topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => w.int32(p.partition).int16(p.errorCode));
  });
  return w.finish();
}

export interface OffsetFetchRequest {
  groupId: string;
  /** null: every topic the group has offsets for. */
  topics: { name: string; partitions: number[] }[] | null;
}

export function decodeOffsetFetchRequest(r: KafkaReader): OffsetFetchRequest {
  const groupId = r.string("group_id");
  const topics = r.nullableArray("topics", (r) => ({ name: r.string("topic"), partitions: r.array("partitions", (r) => r.int32("partition"), 4) }), 6);
  return { groupId, topics };
}

export interface OffsetFetchPartition {
  partition: number;
  /** -1: nothing committed. */
  offset: number;
  metadata: string | null;
  errorCode: KafkaError;
}

export function encodeOffsetFetchResponse(
  version: number,
  topics: { name: string; partitions: OffsetFetchPartition[] }[],
  errorCode: KafkaError,
): Uint8Array {
  const w = new KafkaWriter();
  if (version >= 3) w.int32(0);
  w.array(topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => {
      w.int32(p.partition).int64(p.offset);
      if (version >= 5) w.int32(-1);
      w.nullableString(p.metadata).int16(p.errorCode);
    });
  });
  if (version >= 2) w.int16(errorCode);
  return w.finish();
}
