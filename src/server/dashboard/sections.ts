// What one dashboard update holds, section by section. A section is a name and a function that reads it
// from this node; the page has a panel per section (dashboard/panels/). A new area (consumer groups, say)
// adds a section here and a panel there.
import { assignedOf, groupStateOf, revokingOf, type TopicPartition } from "../../broker";
import { memberViews } from "../cluster-view";
import { groupLagReader } from "../group-lag";
import { shareDepths } from "../share-depth";
import type { NodeContext } from "../node-context";
import type { LeaderHistory } from "./leader-history";

export interface DashboardSources {
  ctx: NodeContext;
  leaders: LeaderHistory;
}

export interface DashboardSection {
  name: string;
  collect(sources: DashboardSources): unknown;
}

/** Partitions listed per update; a cluster with more shows the first ones and says how many are left out. */
export const dashboardPartitionsMax = 2000;

const nodesSection: DashboardSection = {
  name: "nodes",
  async collect({ ctx }) {
    const nodes = await memberViews(ctx);
    return nodes.map((n) => ({
      id: n.id,
      address: n.address,
      up: n.reachable,
      role: n.reachable ? String(n.role).replace("NODE_ROLE_", "").toLowerCase() : "down",
      term: n.term,
      commitIndex: n.commitIndex,
      appliedIndex: n.appliedIndex,
      lag: n.lag ?? null,
      httpAddress: n.httpAddress ?? "",
    }));
  },
};

const topicsSection: DashboardSection = {
  name: "topics",
  collect({ ctx }) {
    const state = ctx.machine.state;
    let budget = dashboardPartitionsMax;
    let omitted = 0;
    const topics = state.listTopics().map((t) => {
      const partitions = state.describeTopic(t.name).partitions;
      const shown = partitions.slice(0, Math.max(0, budget));
      budget -= shown.length;
      omitted += partitions.length - shown.length;
      return {
        name: t.name,
        partitionCount: t.partitions,
        retentionMs: t.retentionMs,
        retentionBytes: t.retentionBytes,
        partitions: shown.map((p) => ({ partition: p.partition, startOffset: p.startOffset, highWatermark: p.highWatermark, bytes: p.bytes })),
      };
    });
    return { topics, omittedPartitions: omitted };
  },
};

/** Groups listed per update; their partitions share dashboardPartitionsMax. */
export const dashboardGroupsMax = 200;

function byTopic(tps: readonly TopicPartition[]): { topic: string; partitions: number[] }[] {
  const out: { topic: string; partitions: number[] }[] = [];
  for (const tp of tps) {
    const last = out[out.length - 1];
    if (last && last.topic === tp.topic) last.partitions.push(tp.partition);
    else out.push({ topic: tp.topic, partitions: [tp.partition] });
  }
  return out;
}

const groupsSection: DashboardSection = {
  name: "groups",
  collect({ ctx }) {
    const state = ctx.machine.state;
    const ids = state.groups.groupIds();
    const lagsOf = groupLagReader(state);
    let budget = dashboardPartitionsMax;
    let omittedPartitions = 0;
    const groups = ids.slice(0, dashboardGroupsMax).flatMap((groupId) => {
      const g = state.groups.group(groupId);
      if (!g) return [];
      const lags = lagsOf(groupId);
      const shown = lags.slice(0, Math.max(0, budget));
      budget -= shown.length;
      omittedPartitions += lags.length - shown.length;
      return [
        {
          groupId,
          state: groupStateOf(g).toLowerCase(),
          generation: g.generation,
          assignor: g.assignor,
          totalLag: lags.reduce((n, p) => n + p.lag, 0),
          members: g.members.map((m) => ({
            memberId: m.memberId,
            clientId: m.clientId,
            instanceId: m.instanceId,
            assigned: byTopic(assignedOf(m)),
            revoking: byTopic(revokingOf(m)),
          })),
          partitions: shown.map((p) => ({
            topic: p.topic,
            partition: p.partition,
            committed: p.committed ?? null,
            highWatermark: p.highWatermark,
            lag: p.lag,
            owner: p.owner ?? "",
          })),
        },
      ];
    });
    return { groups, omittedGroups: Math.max(0, ids.length - dashboardGroupsMax), omittedPartitions };
  },
};

const queuesSection: DashboardSection = {
  name: "queues",
  collect({ ctx }) {
    const state = ctx.machine.state;
    const ids = state.shares.groupIds();
    const nowMs = ctx.now();
    let budget = dashboardPartitionsMax;
    let omittedPartitions = 0;
    const queues = ids.slice(0, dashboardGroupsMax).flatMap((groupId) => {
      const g = state.shares.group(groupId);
      if (!g) return [];
      const depths = shareDepths(state, groupId, nowMs);
      const shown = depths.slice(0, Math.max(0, budget));
      budget -= shown.length;
      omittedPartitions += depths.length - shown.length;
      // A group whose topic is gone counts nothing as unsettled.
      const partitions = shown.map((c) => ({
        partition: c.partition,
        startOffset: c.startOffset,
        highWatermark: c.highWatermark ?? c.startOffset,
        acquired: c.acquired,
        available: c.available,
        deadLetterPending: c.deadLetterPending,
        unsettled: c.unsettled ?? 0,
      }));
      const live = state.topicView.liveTopic(g.topic);
      return [
        {
          groupId,
          topic: g.topic,
          topicDeleted: live === undefined || live.id !== g.topicId,
          deliveryLimit: g.config.deliveryLimit,
          lockTimeoutMs: g.config.lockTimeoutMs,
          deadLetterTopic: g.config.deadLetterTopic,
          acceptedTotal: g.acceptedTotal,
          deadLetteredTotal: g.deadLetteredTotal,
          unsettled: partitions.reduce((n, p) => n + p.unsettled, 0),
          partitions,
        },
      ];
    });
    return { queues, omittedQueues: Math.max(0, ids.length - dashboardGroupsMax), omittedPartitions };
  },
};

const leadersSection: DashboardSection = {
  name: "leaderChanges",
  collect: ({ leaders }) => leaders.list(),
};

export const dashboardSections: DashboardSection[] = [nodesSection, topicsSection, groupsSection, queuesSection, leadersSection];

export async function dashboardSnapshot(sources: DashboardSources): Promise<Record<string, unknown>> {
  const { ctx } = sources;
  const snapshot: Record<string, unknown> = { atMs: ctx.now(), servedBy: ctx.config.id, leaderId: ctx.replica.leaderId };
  const values = await Promise.all(dashboardSections.map((s) => s.collect(sources)));
  dashboardSections.forEach((s, i) => (snapshot[s.name] = values[i]));
  return snapshot;
}
