// The node's raft state, read from the replica at scrape time, and counts of what it has done.
import { Counter, Gauge } from "prom-client";
import { Role } from "../../raft";
import type { MetricsArea } from "./metrics-area";

const roleLabels: Record<Role, string> = {
  [Role.Follower]: "follower",
  [Role.PreCandidate]: "pre_candidate",
  [Role.Candidate]: "candidate",
  [Role.Leader]: "leader",
};

/** Collect hook of a counter that follows a monotonic count kept elsewhere. */
function following(read: () => number): (this: Counter) => void {
  let seen = 0;
  return function (this: Counter) {
    const now = read();
    if (now > seen) this.inc(now - seen);
    seen = now;
  };
}

export const raftMetrics: MetricsArea = (registry, { replica }) => {
  const registers = [registry];
  const status = () => replica.raftNode.status();
  new Gauge({ name: "raftline_raft_term", help: "Current raft term", registers, collect() { this.set(status().term); } });
  new Gauge({
    name: "raftline_raft_role",
    help: "1 for this node's current raft role, 0 for the others",
    labelNames: ["role"] as const,
    registers,
    collect() {
      const role = status().role;
      for (const [r, label] of Object.entries(roleLabels)) this.set({ role: label }, Number(r) === role ? 1 : 0);
    },
  });
  new Gauge({ name: "raftline_raft_leader_id", help: "The leader this node knows, 0 = none", registers, collect() { this.set(replica.leaderId); } });
  new Gauge({ name: "raftline_raft_commit_index", help: "Highest log index known committed", registers, collect() { this.set(status().commit); } });
  new Gauge({ name: "raftline_raft_applied_index", help: "Highest log index applied to the broker state", registers, collect() { this.set(replica.appliedIndex); } });
  new Gauge({ name: "raftline_raft_last_index", help: "Last index of this node's raft log", registers, collect() { this.set(status().lastIndex); } });
  new Gauge({
    name: "raftline_raft_proposals_pending",
    help: "Proposals waiting for commit or apply on this node",
    registers,
    collect() {
      this.set(replica.pendingProposals);
    },
  });
  new Gauge({
    name: "raftline_raft_follower_match_lag_entries",
    help: "Leader only: entries between the leader's last index and each follower's match index",
    labelNames: ["follower"] as const,
    registers,
    collect() {
      this.reset();
      const s = status();
      for (const p of s.progress) this.set({ follower: String(p.id) }, Math.max(0, s.lastIndex - p.match));
    },
  });
  const leaderChanges = new Counter({
    name: "raftline_raft_leader_changes_total",
    help: "Times the leader this node knows changed (to another node or to none)",
    registers,
  });
  let leader = replica.leaderId;
  replica.on("role", (_role: Role, newLeader: number) => {
    if (newLeader !== leader) leaderChanges.inc();
    leader = newLeader;
  });
  const stats = replica.stats;
  new Counter({
    name: "raftline_raft_snapshots_sent_total",
    help: "Snapshots this node sent to a follower",
    registers,
    collect: following(() => stats.snapshotsSent),
  });
  new Counter({
    name: "raftline_raft_snapshots_send_failed_total",
    help: "Snapshot sends that failed",
    registers,
    collect: following(() => stats.snapshotsSendFailed),
  });
  new Counter({
    name: "raftline_raft_snapshots_installed_total",
    help: "Snapshots this node installed",
    registers,
    collect: following(() => stats.snapshotsInstalled),
  });
};
