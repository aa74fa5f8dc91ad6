// Consumer-group members reading the chaos topic for the whole run, with one member leaving and a new
// one joining now and then, so partitions move while faults happen. Members commit automatically after
// each record is handled; a poller watches the committed offsets. After the producers stop, the group
// drains to the end of the log, and the run checks: every record consumed at least once, committed
// offsets never back, never two owners of a partition in one generation (group-checks.ts).
import { connectionDefaults } from "../support/connection-defaults";
import { setTimeout as delay } from "node:timers/promises";
import { RaftlineClient, type Assignment, type GroupConsumer } from "../../src/client";
import { withDeadline } from "../support/wait";
import { CommitObservation, Consumed, OwnershipObservation, committedNeverBackwards, groupConsumedAll, oneOwnerPerGeneration } from "./group-checks";
import type { History } from "./history";
import { type Violation, textOf } from "./model";
import type { FinalView, TopicSpec, Workload, WorkloadContext } from "./workload";

export interface GroupWorkloadOptions {
  name: string;
  topic: TopicSpec;
  members: number;
  /** A member leaves and a new one joins this often. */
  churnEveryMs: number;
  sessionTimeoutMs: number;
  requestTimeoutMs: number;
}

/** How often the committed offsets are polled. */
const pollEveryMs = 250;
/** After the producers stop, how long the group gets to consume and commit to the end of the log. */
const drainDeadlineMs = 45_000;
const closeDeadlineMs = 10_000;
/**
 * Polls (500 ms apart) the group must stay at the end of every partition: producers stop at the same
 * time as this workload, and a late retry may still append; three seconds of quiet is far above it.
 */
const settledPollsNeeded = 6;

export class GroupWorkload implements Workload {
  readonly name: string;
  readonly topics: readonly TopicSpec[];
  private readonly consumed: Consumed = new Map();
  private readonly commits: CommitObservation[] = [];
  private readonly ownership: OwnershipObservation[] = [];
  private readonly members: { consumer: GroupConsumer; done: Promise<void> }[] = [];
  private clients: RaftlineClient[] = [];
  private admin: RaftlineClient | undefined;
  private history: History | undefined;
  private stopped = false;
  private loops: Promise<void>[] = [];
  private joined = 0;
  private records = 0;

  constructor(private readonly options: GroupWorkloadOptions) {
    this.name = options.name;
    this.topics = [options.topic];
  }

  start(ctx: WorkloadContext): void {
    this.history = ctx.history;
    this.admin = new RaftlineClient({ ...connectionDefaults().client, brokers: ctx.brokers, clientId: `${this.name}-poller`, requestTimeoutMs: this.options.requestTimeoutMs });
    for (let i = 0; i < this.options.members; i++) this.join(ctx.brokers);
    this.loops = [this.poll(), this.churn(ctx.brokers)];
  }

  warmedUp(): boolean {
    return this.records > 0;
  }

  async stop(): Promise<void> {
    await this.drain().catch((err: unknown) => this.history?.note("group-drain", { error: (err as Error).message }));
    this.stopped = true;
    await Promise.all(this.loops);
    await withDeadline(Promise.all(this.members.map((m) => m.consumer.close().then(() => m.done))), closeDeadlineMs, "group members to close").catch(() => undefined);
    await Promise.all([...this.clients, ...(this.admin ? [this.admin] : [])].map((c) => c.close({ flush: false })));
  }

  check(final: FinalView): Violation[] {
    const topic = this.options.topic.name;
    return [
      ...groupConsumedAll(topic, this.consumed, final.reference),
      ...committedNeverBackwards(topic, this.commits),
      ...oneOwnerPerGeneration(topic, this.ownership),
    ];
  }

  summary(): Record<string, number> {
    return {
      [`${this.name} consumed`]: this.records,
      [`${this.name} members joined`]: this.joined,
      [`${this.name} assignments`]: this.ownership.length,
    };
  }

  private join(brokers: string[]): void {
    const id = `${this.name}-${this.joined++}`;
    const client = new RaftlineClient({ ...connectionDefaults().client, brokers, clientId: id, requestTimeoutMs: this.options.requestTimeoutMs });
    this.clients.push(client);
    const consumer = client.consumer({ groupId: this.name, clientId: id, sessionTimeoutMs: this.options.sessionTimeoutMs, autoCommitIntervalMs: 200 });
    consumer.subscribe({ topics: [this.options.topic.name] });
    consumer.on("assignment", (a: Assignment) => {
      const partitions = [...a.assigned, ...a.revoking].map((tp) => tp.partition).sort((x, y) => x - y);
      this.ownership.push({ member: a.memberId, generation: a.generation, partitions });
      this.history?.note("group-assignment", { member: a.memberId, generation: a.generation, assigned: a.assigned.map((tp) => tp.partition), revoking: a.revoking.map((tp) => tp.partition) });
    });
    const done = consumer.run({
      eachMessage: (r) => {
        let byOffset = this.consumed.get(r.partition);
        if (!byOffset) this.consumed.set(r.partition, (byOffset = new Map()));
        byOffset.set(r.offset, textOf(r.value));
        this.records++;
      },
    });
    this.members.push({ consumer, done: done.catch((err: unknown) => this.history?.note("group-member-failed", { member: id, error: (err as Error).message })) });
  }

  /** Now and then the oldest member leaves and a new one joins. */
  private async churn(brokers: string[]): Promise<void> {
    while (!this.stopped) {
      await delay(this.options.churnEveryMs);
      if (this.stopped) return;
      const leaving = this.members.shift();
      if (!leaving) continue;
      await withDeadline(leaving.consumer.close(), closeDeadlineMs, "a churned member to close").catch(() => undefined);
      if (!this.stopped) this.join(brokers);
    }
  }

  private async poll(): Promise<void> {
    const groups = this.admin?.groups();
    while (!this.stopped && groups) {
      try {
        const offsets = await groups.fetchOffsets(this.name, this.options.topic.name);
        const atMs = this.history?.nowMs() ?? 0;
        for (const o of offsets) this.commits.push({ partition: o.partition, offset: o.offset, atMs });
      } catch {
        // Unavailable during a fault, or the group does not exist yet: poll again.
      }
      await delay(pollEveryMs);
    }
  }

  /** Waits until the committed offsets reach the end of every partition and stay there. */
  private async drain(): Promise<void> {
    const admin = this.admin;
    if (!admin) return;
    const deadline = Date.now() + drainDeadlineMs;
    let settledPolls = 0;
    let lastMarks = "";
    while (settledPolls < settledPollsNeeded) {
      if (Date.now() > deadline) throw new Error("the group did not consume to the end of the log in time");
      await delay(500);
      try {
        const { partitions } = await admin.admin().describeTopic(this.options.topic.name);
        const committed = new Map((await admin.groups().fetchOffsets(this.name, this.options.topic.name)).map((o) => [o.partition, o.offset]));
        const marks = partitions.map((p) => p.highWatermark).join(",");
        const done = partitions.every((p) => committed.get(p.partition) === p.highWatermark) && marks === lastMarks;
        lastMarks = marks;
        settledPolls = done ? settledPolls + 1 : 0;
      } catch {
        settledPolls = 0;
      }
    }
  }
}
