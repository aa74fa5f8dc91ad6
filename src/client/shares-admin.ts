// Share-group (work queue) administration: list groups, describe one (configuration, per partition its
// start offset, window and counts).
import type { CallOptions, requestCallback } from "@grpc/grpc-js";
import type { DescribeShareGroupResponse__Output } from "../generated/raftline/v1/DescribeShareGroupResponse";
import type { ListShareGroupsResponse__Output } from "../generated/raftline/v1/ListShareGroupsResponse";
import type { BrokerStubs } from "./broker-pool";
import { CallRunner, callUnary } from "./call-runner";

export type ShareGroupDescription = DescribeShareGroupResponse__Output;

export class SharesAdmin {
  constructor(
    private readonly runner: CallRunner,
    private readonly requestTimeoutMs: number,
  ) {}

  private call<T>(start: (s: BrokerStubs, o: CallOptions, done: requestCallback<T>) => void): Promise<T> {
    return this.runner.run(true, (s) => callUnary<T>(s.address, this.requestTimeoutMs, (o, done) => start(s, o, done)));
  }

  async listShareGroups(): Promise<ListShareGroupsResponse__Output["groups"]> {
    return (await this.call<ListShareGroupsResponse__Output>((s, o, d) => s.shares.ListShareGroups({}, o, d))).groups;
  }

  describeShareGroup(groupId: string): Promise<ShareGroupDescription> {
    return this.call<DescribeShareGroupResponse__Output>((s, o, d) => s.shares.DescribeShareGroup({ groupId }, o, d));
  }
}
