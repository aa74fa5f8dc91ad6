// What each rpc of the client port needs, in one table: the (operation, resource) pairs taken from its
// request, all of which the caller's principal must be allowed. The guard consults it before any
// handler runs, and a unit test walks every rpc of the compiled contract and fails on one missing here,
// so a new rpc cannot ship unprotected. For a request stream, every message is checked as it arrives.
import type { Access } from "../../broker";
import type { AckRequest__Output } from "../../generated/raftline/v1/AckRequest";
import type { CommitOffsetsRequest__Output } from "../../generated/raftline/v1/CommitOffsetsRequest";
import type { CreateShareGroupRequest__Output } from "../../generated/raftline/v1/CreateShareGroupRequest";
import type { CreateTopicRequest__Output } from "../../generated/raftline/v1/CreateTopicRequest";
import type { DeleteGroupRequest__Output } from "../../generated/raftline/v1/DeleteGroupRequest";
import type { DeleteShareGroupRequest__Output } from "../../generated/raftline/v1/DeleteShareGroupRequest";
import type { DeleteTopicRequest__Output } from "../../generated/raftline/v1/DeleteTopicRequest";
import type { DescribeGroupRequest__Output } from "../../generated/raftline/v1/DescribeGroupRequest";
import type { DescribeShareGroupRequest__Output } from "../../generated/raftline/v1/DescribeShareGroupRequest";
import type { DescribeTopicRequest__Output } from "../../generated/raftline/v1/DescribeTopicRequest";
import type { FetchOffsetsRequest__Output } from "../../generated/raftline/v1/FetchOffsetsRequest";
import type { FetchRequest__Output } from "../../generated/raftline/v1/FetchRequest";
import type { JoinRequest__Output } from "../../generated/raftline/v1/JoinRequest";
import type { PopRequest__Output } from "../../generated/raftline/v1/PopRequest";
import type { ProduceRequest__Output } from "../../generated/raftline/v1/ProduceRequest";
import type { ReceiveRequest__Output } from "../../generated/raftline/v1/ReceiveRequest";
import type { ResetOffsetsRequest__Output } from "../../generated/raftline/v1/ResetOffsetsRequest";
import type { SubscribeRequest__Output } from "../../generated/raftline/v1/SubscribeRequest";

/** "authenticated": any principal may call it (it touches nothing of anyone else's). */
export type RpcNeed = { kind: "authenticated" } | { kind: "access"; of(request: unknown): Access[] };

function needs<Req>(of: (request: Req) => Access[]): RpcNeed {
  return { kind: "access", of: (request) => of(request as Req) };
}

const cluster = (operation: Access["operation"]): RpcNeed => needs(() => [{ operation, resourceType: "cluster", name: "" }]);
const topic = (operation: Access["operation"], name: string): Access => ({ operation, resourceType: "topic", name });
const group = (operation: Access["operation"], name: string): Access => ({ operation, resourceType: "group", name });

/** One produce request may write to several topics: each is checked. */
const produce = needs<ProduceRequest__Output>((r) => [...new Set((r.batches ?? []).map((b) => b.topic))].map((t) => topic("produce", t)));

/** Keyed by the rpc's full path, as gRPC names it ("/package.Service/Method"). */
export const rpcAccess: Readonly<Record<string, RpcNeed>> = {
  "/raftline.v1.Producer/Produce": produce,
  "/raftline.v1.Producer/ProduceStream": produce,
  // A producer id is not tied to a topic; every batch it stamps is checked as a produce.
  "/raftline.v1.Producer/InitProducer": { kind: "authenticated" },

  "/raftline.v1.Consumer/Fetch": needs<FetchRequest__Output>((r) => [topic("consume", r.topic)]),
  "/raftline.v1.Consumer/Subscribe": needs<SubscribeRequest__Output>((r) => [topic("consume", r.topic)]),

  "/raftline.v1.Admin/CreateTopic": needs<CreateTopicRequest__Output>((r) => [topic("create", r.name)]),
  "/raftline.v1.Admin/DeleteTopic": needs<DeleteTopicRequest__Output>((r) => [topic("delete", r.name)]),
  "/raftline.v1.Admin/ListTopics": cluster("describe"),
  "/raftline.v1.Admin/DescribeTopic": needs<DescribeTopicRequest__Output>((r) => [topic("describe", r.name)]),
  "/raftline.v1.Admin/DescribeCluster": cluster("describe"),
  "/raftline.v1.Admin/TransferLeadership": cluster("alter"),
  "/raftline.v1.Admin/AddNode": cluster("alter"),
  "/raftline.v1.Admin/RemoveNode": cluster("alter"),
  "/raftline.v1.Admin/ReplaceNode": cluster("alter"),
  "/raftline.v1.Admin/PromoteLearner": cluster("alter"),
  "/raftline.v1.Admin/AddAcl": cluster("alter"),
  "/raftline.v1.Admin/RemoveAcl": cluster("alter"),
  "/raftline.v1.Admin/ListAcls": cluster("describe"),
  "/raftline.v1.Admin/CreateToken": cluster("alter"),
  "/raftline.v1.Admin/DeleteToken": cluster("alter"),
  "/raftline.v1.Admin/ListTokens": cluster("describe"),
  "/raftline.v1.Admin/WhoAmI": { kind: "authenticated" },

  // Only the message that joins names the group; the others act on the member that message created.
  "/raftline.v1.ConsumerGroups/Join": needs<JoinRequest__Output>((r) => (r.join ? [group("consume", r.join.groupId)] : [])),
  "/raftline.v1.ConsumerGroups/CommitOffsets": needs<CommitOffsetsRequest__Output>((r) => [group("commit", r.groupId)]),
  "/raftline.v1.ConsumerGroups/FetchOffsets": needs<FetchOffsetsRequest__Output>((r) => [group("describe", r.groupId)]),
  "/raftline.v1.ConsumerGroups/ListGroups": cluster("describe"),
  "/raftline.v1.ConsumerGroups/DescribeGroup": needs<DescribeGroupRequest__Output>((r) => [group("describe", r.groupId)]),
  "/raftline.v1.ConsumerGroups/DeleteGroup": needs<DeleteGroupRequest__Output>((r) => [group("delete", r.groupId)]),
  "/raftline.v1.ConsumerGroups/ResetOffsets": needs<ResetOffsetsRequest__Output>((r) => [group("alter", r.groupId)]),

  // A share group hands out its topic's records: whoever sets it up must be able to read that topic; its
  // workers then need `consume` on the group only (the group, not the request, names the topic).
  "/raftline.v1.ShareGroups/CreateShareGroup": needs<CreateShareGroupRequest__Output>((r) => [group("alter", r.groupId), topic("consume", r.topic)]),
  "/raftline.v1.ShareGroups/Receive": needs<ReceiveRequest__Output>((r) => (r.open ? [group("consume", r.open.groupId)] : [])),
  "/raftline.v1.ShareGroups/Pop": needs<PopRequest__Output>((r) => [group("consume", r.groupId)]),
  "/raftline.v1.ShareGroups/Ack": needs<AckRequest__Output>((r) => [group("consume", r.groupId)]),
  "/raftline.v1.ShareGroups/DescribeShareGroup": needs<DescribeShareGroupRequest__Output>((r) => [group("describe", r.groupId)]),
  "/raftline.v1.ShareGroups/ListShareGroups": cluster("describe"),
  "/raftline.v1.ShareGroups/DeleteShareGroup": needs<DeleteShareGroupRequest__Output>((r) => [group("delete", r.groupId)]),
};
