// The cluster's observable state, for checking that refused calls change nothing: the topics with their
// configuration, every partition's high watermark, and the leader's term and commit index. Producer ids
// (and everything else replicated) change only through log entries, so an unchanged commit index shows
// them unchanged too. (A few refusals are decided when the entry is applied, as producer.proto documents
// for idempotent batches: they consume a log entry, and only the topics part must stay the same. So does
// a cluster where consumer-group members are alive: the leader writes their session expiries to the log
// on its own. So does a leader that has not yet recorded every member's incarnation: the state is settled
// only once it has.)
import * as grpc from "@grpc/grpc-js";
import type { DescribeClusterResponse__Output } from "../../../src/generated/raftline/v1/DescribeClusterResponse";
import type { DescribeTopicResponse__Output } from "../../../src/generated/raftline/v1/DescribeTopicResponse";
import type { ListGroupsResponse__Output } from "../../../src/generated/raftline/v1/ListGroupsResponse";
import type { ListTopicsResponse__Output } from "../../../src/generated/raftline/v1/ListTopicsResponse";
import type { Cluster } from "../cluster";
import { RawStubs, rawStubs, unaryCall } from "../raw-stubs";
import { waitFor } from "../wait";

const stateCallTimeoutMs = 5000;
/** How long the state may take to settle after a call whose effect is unknown. */
const settleDeadlineMs = 20000;
const settleIntervalMs = 50;

const topicsMark = " | ";

const liveMembersMark = " members ";
/** Nodes whose incarnation the log does not record yet: the leader will write it on its own. */
const unrecordedMark = " unrecorded ";

/** True when group members were alive: the leader may append their expiries to the log at any time. */
export function membersAlive(state: string): boolean {
  const at = state.indexOf(liveMembersMark);
  return at >= 0 && Number.parseInt(state.slice(at + liveMembersMark.length), 10) > 0;
}

/** The topics part of a state, without the log position. */
export function topicsOf(state: string): string {
  return state.slice(state.indexOf(topicsMark) + topicsMark.length);
}

export class ClusterState {
  private readonly stubs = new Map<number, RawStubs>();

  constructor(
    private readonly cluster: Cluster,
    private readonly credentials?: grpc.ChannelCredentials,
  ) {}

  /** A canonical rendering of the observable state, read from the leader. */
  async read(): Promise<string> {
    const anyNode = this.on(this.cluster.liveIds()[0]);
    const view = await unaryCall<DescribeClusterResponse__Output>((o, cb) => anyNode.admin.DescribeCluster({}, new grpc.Metadata(), o, cb), stateCallTimeoutMs);
    if (!view.leaderId) throw new Error("no leader");
    const leader = this.on(view.leaderId);
    const self = view.nodes.find((n) => n.id === view.leaderId);
    const topics: string[] = [];
    let pageToken = "";
    do {
      const page = await unaryCall<ListTopicsResponse__Output>((o, cb) => leader.admin.ListTopics({ pageSize: 1000, pageToken }, new grpc.Metadata(), o, cb), stateCallTimeoutMs);
      for (const t of page.topics) {
        const d = await unaryCall<DescribeTopicResponse__Output>((o, cb) => leader.admin.DescribeTopic({ name: t.name }, new grpc.Metadata(), o, cb), stateCallTimeoutMs);
        const hwms = d.partitions.map((p) => `${p.startOffset}-${p.highWatermark}`).join(",");
        topics.push(`${t.name}:${t.partitions}:${t.retentionMs}:${t.retentionBytes}:${t.maxRecordBytes}[${hwms}]`);
      }
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    let members = 0;
    pageToken = "";
    do {
      const page = await unaryCall<ListGroupsResponse__Output>((o, cb) => leader.groups.ListGroups({ pageSize: 1000, pageToken }, new grpc.Metadata(), o, cb), stateCallTimeoutMs);
      for (const g of page.groups) members += g.members;
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    const unrecorded = view.nodes.filter((n) => n.recordedIncarnation === "").length;
    const recording = unrecorded > 0 ? `${unrecordedMark}${unrecorded}` : "";
    return `leader ${view.leaderId} term ${self?.term} commit ${self?.commitIndex}${recording}${liveMembersMark}${members}${topicsMark}${topics.join(" ")}`;
  }

  /** The state once it has stopped changing (a call of unknown outcome may still be landing). */
  async settled(): Promise<string> {
    let previous = "";
    return waitFor(
      async () => {
        const now = await this.read();
        const stable = now === previous && !now.includes(unrecordedMark);
        previous = now;
        return stable ? now : undefined;
      },
      settleDeadlineMs,
      "the cluster state to settle",
      settleIntervalMs,
    );
  }

  harness(id: number): RawStubs {
    return this.on(id);
  }

  close(): void {
    for (const s of this.stubs.values()) s.close();
    this.stubs.clear();
  }

  private on(id: number): RawStubs {
    let s = this.stubs.get(id);
    if (!s) {
      s = rawStubs(this.cluster.node(id).clientAddress, {}, this.credentials);
      this.stubs.set(id, s);
    }
    return s;
  }
}
