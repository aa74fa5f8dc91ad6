// Consumer groups as stored and as apply changes them: plain data, written by storage/group-store.ts.
import type { TopicPartition } from "./group-commands";

export interface GroupMemberRecord {
  memberId: string;
  /** "" for a dynamic member. */
  instanceId: string;
  clientId: string;
  topics: string[];
  sessionTimeoutMs: number;
  /** The group generation of the last change to this member's assignment (owned or revoking). */
  generation: number;
  /** What the member holds: no partition is owned by two members. Ordered. */
  owned: TopicPartition[];
  /** What the assignor wants it to hold. owned - target is being revoked. Ordered. */
  target: TopicPartition[];
}

export interface GroupRecord {
  groupId: string;
  generation: number;
  assignor: string;
  /** Ordered by member id. */
  members: GroupMemberRecord[];
}

/** A committed offset. Keyed by topic id, so a topic deleted and created again starts without one. */
export interface OffsetRecord {
  groupId: string;
  topicId: number;
  partition: number;
  offset: number;
  metadata: string;
  committedAtMs: number;
}

export interface LoadedGroups {
  groups: GroupRecord[];
  offsets: OffsetRecord[];
}

export type GroupMutation =
  | { kind: "putGroup"; group: GroupRecord }
  /** Removes the group and every committed offset it had. */
  | { kind: "removeGroup"; groupId: string; offsets: { topicId: number; partition: number }[] }
  | { kind: "putOffset"; offset: OffsetRecord };

export type GroupStateName = "EMPTY" | "STABLE" | "RECONCILING";
