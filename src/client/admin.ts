// Admin: topics and the cluster. Changes go to the leader (any node would forward them); queries too, for
// the freshest view. DescribeCluster also teaches the client who leads.
import type { CreateTopicResponse__Output } from "../generated/raftline/v1/CreateTopicResponse";
import type { DeleteTopicResponse__Output } from "../generated/raftline/v1/DeleteTopicResponse";
import type { DescribeClusterResponse__Output } from "../generated/raftline/v1/DescribeClusterResponse";
import type { DescribeTopicResponse__Output } from "../generated/raftline/v1/DescribeTopicResponse";
import type { ListTopicsResponse__Output } from "../generated/raftline/v1/ListTopicsResponse";
import type { TransferLeadershipResponse__Output } from "../generated/raftline/v1/TransferLeadershipResponse";
import { randomUUID } from "node:crypto";
import type { AddNodeResponse__Output } from "../generated/raftline/v1/AddNodeResponse";
import type { Membership__Output } from "../generated/raftline/v1/Membership";
import type { PromoteLearnerResponse__Output } from "../generated/raftline/v1/PromoteLearnerResponse";
import type { RemoveNodeResponse__Output } from "../generated/raftline/v1/RemoveNodeResponse";
import type { ReplaceNodeResponse__Output } from "../generated/raftline/v1/ReplaceNodeResponse";
import type { CallRunner } from "./call-runner";
import { callUnary } from "./call-runner";
import {
  AddNodeOptions,
  ClusterDescription,
  Membership,
  CreateTopicOptions,
  TopicConfig,
  TopicDescription,
  nodeFrom,
  partitionFrom,
  topicFrom,
} from "./admin-types";
import type { RetryPolicy } from "./retry";

/** Deadline of TransferLeadership, which answers only once the target leads. */
const transferTimeoutMs = 30000;
/** Deadline of a membership change, which answers once applied (a replacement is two changes). */
const membershipTimeoutMs = 30000;

function membershipFrom(m: Membership__Output | null): Membership {
  return { voters: m?.voters ?? [], learners: m?.learners ?? [] };
}

/** The largest page ListTopics answers (admin.proto). */
const maxListPageSize = 1000;

export class Admin {
  constructor(
    private readonly runner: CallRunner,
    private readonly requestTimeoutMs: number,
  ) {}

  /**
   * Creates a topic. Retried after DEADLINE_EXCEEDED like any retriable error, so a topic created by the
   * first attempt makes the retry fail with ALREADY_EXISTS.
   */
  async createTopic(options: CreateTopicOptions): Promise<TopicConfig> {
    const request = { ...options, requestId: options.requestId ?? randomUUID() };
    const response = await this.runner.run(true, (s) =>
      callUnary<CreateTopicResponse__Output>(s.address, this.requestTimeoutMs, (o, done) => s.admin.CreateTopic(request, o, done)),
    );
    return topicFrom(response.topic);
  }

  async deleteTopic(name: string): Promise<void> {
    await this.runner.run(true, (s) =>
      callUnary<DeleteTopicResponse__Output>(s.address, this.requestTimeoutMs, (o, done) => s.admin.DeleteTopic({ name }, o, done)),
    );
  }

  /** Every topic, ordered by name (all pages). */
  async listTopics(): Promise<TopicConfig[]> {
    const topics: TopicConfig[] = [];
    let pageToken = "";
    do {
      const request = { pageSize: maxListPageSize, pageToken };
      const response = await this.runner.run(true, (s) =>
        callUnary<ListTopicsResponse__Output>(s.address, this.requestTimeoutMs, (o, done) => s.admin.ListTopics(request, o, done)),
      );
      topics.push(...response.topics.map(topicFrom));
      pageToken = response.nextPageToken;
    } while (pageToken !== "");
    return topics;
  }

  async describeTopic(name: string): Promise<TopicDescription> {
    const response = await this.runner.run(true, (s) =>
      callUnary<DescribeTopicResponse__Output>(s.address, this.requestTimeoutMs, (o, done) => s.admin.DescribeTopic({ name }, o, done)),
    );
    return { topic: topicFrom(response.topic), partitions: response.partitions.map(partitionFrom) };
  }

  /** The cluster as the answering node sees it; remembers the leader it names. */
  async describeCluster(policy?: RetryPolicy): Promise<ClusterDescription> {
    const response = await this.runner.run(
      true,
      (s) => callUnary<DescribeClusterResponse__Output>(s.address, this.requestTimeoutMs, (o, done) => s.admin.DescribeCluster({}, o, done)),
      policy,
    );
    const description: ClusterDescription = {
      leaderId: response.leaderId,
      nodes: response.nodes.map(nodeFrom),
      answeredBy: response.answeredBy,
      clusterId: response.clusterId,
    };
    this.runner.pool.noteLeader(description.nodes.find((n) => n.id === description.leaderId)?.address);
    this.runner.pool.noteMembers(description.nodes.map((n) => n.address));
    return description;
  }

  /** Hands leadership to `toNodeId` (0 or absent = the most caught-up follower); answers once it leads. */
  async transferLeadership(toNodeId = 0): Promise<{ leaderId: number; previousLeaderId: number }> {
    const response = await this.runner.run(true, (s) =>
      callUnary<TransferLeadershipResponse__Output>(s.address, transferTimeoutMs, (o, done) => s.admin.TransferLeadership({ toNodeId }, o, done)),
    );
    return { leaderId: response.leaderId, previousLeaderId: response.previousLeaderId };
  }

  /**
   * Membership changes are retried like other admin writes, so a retry of a change whose first answer was
   * lost but which was applied is refused (NODE_EXISTS, UNKNOWN_NODE): describeCluster() tells.
   */
  async addNode(options: AddNodeOptions): Promise<Membership> {
    const request = { nodeId: options.nodeId, clientAddress: options.clientAddress, peerAddress: options.peerAddress, stayLearner: options.stayLearner ?? false };
    const response = await this.runner.run(true, (s) =>
      callUnary<AddNodeResponse__Output>(s.address, membershipTimeoutMs, (o, done) => s.admin.AddNode(request, o, done)),
    );
    return membershipFrom(response.membership);
  }

  /** Removes a voter or learner; the leader removing itself hands leadership over first. */
  async removeNode(nodeId: number): Promise<Membership> {
    const response = await this.runner.run(true, (s) =>
      callUnary<RemoveNodeResponse__Output>(s.address, membershipTimeoutMs, (o, done) => s.admin.RemoveNode({ nodeId }, o, done)),
    );
    return membershipFrom(response.membership);
  }

  /** Gives a lost node's slot to its next incarnation (same id and addresses, empty data directory). */
  async replaceNode(nodeId: number): Promise<Membership> {
    const response = await this.runner.run(true, (s) =>
      callUnary<ReplaceNodeResponse__Output>(s.address, membershipTimeoutMs, (o, done) => s.admin.ReplaceNode({ nodeId }, o, done)),
    );
    return membershipFrom(response.membership);
  }

  async promoteLearner(nodeId: number): Promise<Membership> {
    const response = await this.runner.run(true, (s) =>
      callUnary<PromoteLearnerResponse__Output>(s.address, membershipTimeoutMs, (o, done) => s.admin.PromoteLearner({ nodeId }, o, done)),
    );
    return membershipFrom(response.membership);
  }
}
