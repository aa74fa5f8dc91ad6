// Share-group (work queue) administration: list groups, describe one (configuration, per partition its
// start offset, window and counts), delete one.
import type { CallOptions, requestCallback } from "@grpc/grpc-js";
import type { DeleteShareGroupResponse__Output } from "../generated/raftline/v1/DeleteShareGroupResponse";
import type { DescribeShareGroupResponse__Output } from "../generated/raftline/v1/DescribeShareGroupResponse";
import type { ListShareGroupsResponse__Output } from "../generated/raftline/v1/ListShareGroupsResponse";
import type { BrokerStubs } from "./broker-pool";
import { CallRunner, callUnary } from "./call-runner";

export type ShareGroupDescription = DescribeShareGroupResponse__Output;
/** The deleted group's topic, and the records still locked that a forced delete abandoned. */
export type ShareGroupDeletion = DeleteShareGroupResponse__Output;

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

  /**
   * Deletes the group's state (not its topic, not its dead-letter topic). Refused with
   * FAILED_PRECONDITION + SHARE_GROUP_IN_USE while records are locked or Receive streams are open,
   * unless `force`. Retried like other calls: a retry after an attempt whose outcome was unknown may
   * answer NOT_FOUND + UNKNOWN_SHARE_GROUP, the first attempt having deleted the group.
   */
  deleteShareGroup(groupId: string, options: { force?: boolean } = {}): Promise<ShareGroupDeletion> {
    return this.call<DeleteShareGroupResponse__Output>((s, o, d) => s.shares.DeleteShareGroup({ groupId, force: options.force ?? false }, o, d));
  }
}
