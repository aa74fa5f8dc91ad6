// Consumer-group administration: list, describe (with lag), fetch, reset and delete offsets.
import type { CommittedOffset__Output } from "../generated/raftline/v1/CommittedOffset";
import type { DeleteGroupResponse__Output } from "../generated/raftline/v1/DeleteGroupResponse";
import type { DescribeGroupResponse__Output } from "../generated/raftline/v1/DescribeGroupResponse";
import type { FetchOffsetsResponse__Output } from "../generated/raftline/v1/FetchOffsetsResponse";
import type { ListGroupsResponse__Output } from "../generated/raftline/v1/ListGroupsResponse";
import type { ResetOffsetsRequest } from "../generated/raftline/v1/ResetOffsetsRequest";
import type { ResetOffsetsResponse__Output } from "../generated/raftline/v1/ResetOffsetsResponse";
import type { CallOptions, requestCallback } from "@grpc/grpc-js";
import { CallRunner, callUnary } from "./call-runner";
import type { BrokerStubs } from "./broker-pool";

export type GroupDescription = DescribeGroupResponse__Output;

export type ResetTarget =
  | { earliest: true }
  | { latest: true }
  | { offset: number }
  | { timestampMs: number }
  | { durationBackMs: number };

export class GroupsAdmin {
  constructor(
    private readonly runner: CallRunner,
    private readonly requestTimeoutMs: number,
  ) {}

  private call<T>(start: (s: BrokerStubs, o: CallOptions, done: requestCallback<T>) => void): Promise<T> {
    return this.runner.run(true, (s) => callUnary<T>(s.address, this.requestTimeoutMs, (o, done) => start(s, o, done)));
  }

  /** Every group id with its state, following pages to the end. */
  async listGroups(): Promise<ListGroupsResponse__Output["groups"]> {
    const out: ListGroupsResponse__Output["groups"] = [];
    let pageToken = "";
    do {
      const page = await this.call<ListGroupsResponse__Output>((s, o, d) => s.groups.ListGroups({ pageSize: 0, pageToken }, o, d));
      out.push(...page.groups);
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    return out;
  }

  describeGroup(groupId: string): Promise<GroupDescription> {
    return this.call<DescribeGroupResponse__Output>((s, o, d) => s.groups.DescribeGroup({ groupId }, o, d));
  }

  async fetchOffsets(groupId: string, topic = ""): Promise<CommittedOffset__Output[]> {
    return (await this.call<FetchOffsetsResponse__Output>((s, o, d) => s.groups.FetchOffsets({ groupId, topic }, o, d))).offsets;
  }

  async deleteGroup(groupId: string): Promise<void> {
    await this.call<DeleteGroupResponse__Output>((s, o, d) => s.groups.DeleteGroup({ groupId }, o, d));
  }

  async resetOffsets(o: { groupId: string; topic: string; partitions?: number[]; to: ResetTarget; dryRun?: boolean }): Promise<CommittedOffset__Output[]> {
    const request: ResetOffsetsRequest = { groupId: o.groupId, topic: o.topic, partitions: o.partitions ?? [], dryRun: o.dryRun ?? false, ...o.to };
    return (await this.call<ResetOffsetsResponse__Output>((s, opts, d) => s.groups.ResetOffsets(request, opts, d))).offsets;
  }
}
