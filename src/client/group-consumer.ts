// A member of a consumer group: `client.consumer({ groupId })`. It joins the group (group-session.ts),
// streams the partitions the coordinator assigns it (partition-reader.ts) into one bounded buffer, and
// delivers records through `for await` or run(). At least once: a record's offset is committed only
// after its handler returned (for `for await`: once the next record is asked for), automatically every
// autoCommitIntervalMs and on commit(), before a revoked partition is released, and on close().
import { EventEmitter } from "node:events";
import type { CommitOffsetsRequest } from "../generated/raftline/v1/CommitOffsetsRequest";
import type { CommitOffsetsResponse__Output } from "../generated/raftline/v1/CommitOffsetsResponse";
import type { FetchOffsetsResponse__Output } from "../generated/raftline/v1/FetchOffsetsResponse";
import { Admin } from "./admin";
import { CallRunner, callUnary } from "./call-runner";
import { RaftlineError, toRaftlineError } from "./errors";
import { Assignment, GroupSession, TopicPartition } from "./group-session";
import { PartitionReader, ReaderSink } from "./partition-reader";
import type { ConsumedRecord } from "./records";

export type { TopicPartition } from "./group-session";

export interface GroupConsumerOptions {
  groupId: string;
  /** Shown by DescribeGroup; also prefixes the member id. */
  clientId?: string;
  /** Static membership: a stable name of this instance. close() then does not leave the group. */
  instanceId?: string;
  /** 1000..1800000; default 10000 (Kafka's default is 45000). */
  sessionTimeoutMs?: number;
  assignor?: "cooperative-sticky" | "range" | "round-robin";
  /** Default true. */
  autoCommit?: boolean;
  /** Default 1000 (like Kafka's auto.commit.interval.ms... which defaults to 5000). */
  autoCommitIntervalMs?: number;
  /** Where a partition without a committed offset starts; default "earliest". */
  startFrom?: "earliest" | "latest";
  /** Soft bound on one fetch's record bytes; 0 = the server's default. */
  maxBytes?: number;
  /** Records fetched ahead of processing, at most (default 10000). */
  maxBufferedRecords?: number;
}

export interface EachBatchPayload {
  topic: string;
  partition: number;
  records: ConsumedRecord[];
}

export interface RunHandlers {
  eachMessage?: (record: ConsumedRecord) => Promise<void> | void;
  eachBatch?: (batch: EachBatchPayload) => Promise<void> | void;
}

interface Chunk {
  reader: PartitionReader;
  epoch: number;
  records: ConsumedRecord[];
  next: number;
}

export const defaultGroupSessionTimeoutMs = 10_000;
const defaultAutoCommitIntervalMs = 1000;
const defaultMaxBufferedRecords = 10_000;

function keyOf(tp: TopicPartition): string {
  return `${tp.topic}/${tp.partition}`;
}

/**
 * Events: "assignment" (every assignment the coordinator pushed, with its generation and the partitions
 * being revoked), "partitionsAssigned" (TopicPartition[]), "partitionsRevoked" (TopicPartition[], after their
 * offsets were committed), "partitionsLost" (TopicPartition[], the group dropped this member),
 * "rejoined" (pauseMs: how long the session was broken, e.g. by a leader change), "commitFailed"
 * (RaftlineError), "readFailed" (RaftlineError: a partition's stream failed for a reason retrying does not
 * cover, e.g. OUT_OF_RANGE after retention; it is reopened after a pause), "error" (RaftlineError: the
 * session cannot go on).
 */
export class GroupConsumer extends EventEmitter implements AsyncIterable<ConsumedRecord> {
  private topics: string[] = [];
  private session: GroupSession | undefined;
  private readonly readers = new Map<string, PartitionReader>();
  private readonly processed = new Map<string, number>();
  private readonly committed = new Map<string, number>();
  private queue: Chunk[] = [];
  private buffered = 0;
  private waiters: (() => void)[] = [];
  private busy = false;
  private idleWaiters: (() => void)[] = [];
  private rebalancing: Promise<void> = Promise.resolve();
  private committing: Promise<void> = Promise.resolve();
  private autoCommit: NodeJS.Timeout | undefined;
  private closed = false;
  /** Why the session ended for good; iteration and run() end with it. */
  private failure: RaftlineError | undefined;
  private readonly admin: Admin;
  private readonly maxBuffered: number;

  constructor(
    private readonly runner: CallRunner,
    private readonly requestTimeoutMs: number,
    private readonly options: GroupConsumerOptions,
  ) {
    super();
    this.admin = new Admin(runner, requestTimeoutMs);
    this.maxBuffered = options.maxBufferedRecords ?? defaultMaxBufferedRecords;
    // An "error" with no listener would throw from emit: the failure is also seen by iteration and run().
    this.on("error", () => undefined);
  }

  subscribe(o: { topics: string[] }): void {
    if (this.session) throw new Error("subscribe before consuming");
    this.topics = [...o.topics];
  }

  get memberId(): string {
    return this.session?.memberId ?? "";
  }

  get generation(): number {
    return this.session?.generation ?? -1;
  }

  /** The partitions this member reads now. */
  assignment(): TopicPartition[] {
    return [...this.readers.values()].map((r) => ({ topic: r.topic, partition: r.partition }));
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ConsumedRecord, void, undefined> {
    this.start();
    let previous: { key: string; offset: number } | undefined;
    try {
      for (;;) {
        // Asking for the next record means the previous one was processed.
        if (previous) this.done(previous.key, previous.offset);
        previous = undefined;
        this.setIdle();
        const record = await this.take();
        if (!record) return;
        this.busy = true;
        previous = { key: keyOf(record), offset: record.offset };
        yield record;
      }
    } finally {
      if (previous) this.done(previous.key, previous.offset);
      this.setIdle();
      await this.close();
    }
  }

  /** Delivers records to the handlers until close(). */
  async run(handlers: RunHandlers): Promise<void> {
    if (!handlers.eachMessage === !handlers.eachBatch) throw new Error("give exactly one of eachMessage and eachBatch");
    this.start();
    for (;;) {
      const chunk = await this.takeChunk();
      if (!chunk) return;
      this.busy = true;
      try {
        if (handlers.eachBatch) {
          const records = chunk.records.slice(chunk.next);
          chunk.next = chunk.records.length;
          if (records.length === 0) continue;
          await handlers.eachBatch({ topic: chunk.reader.topic, partition: chunk.reader.partition, records });
          const last = records[records.length - 1];
          this.done(keyOf(last), last.offset);
        } else if (handlers.eachMessage) {
          while (chunk.next < chunk.records.length && this.valid(chunk)) {
            const record = chunk.records[chunk.next++];
            await handlers.eachMessage(record);
            this.done(keyOf(record), record.offset);
          }
        }
      } finally {
        this.releaseChunk(chunk);
        this.setIdle();
      }
    }
  }

  /** Commits what was processed, now. */
  commit(): Promise<void> {
    return this.commitProcessed(true);
  }

  pause(partitions: TopicPartition[]): void {
    for (const tp of partitions) {
      const r = this.readers.get(keyOf(tp));
      if (!r) continue;
      r.pause();
      r.position = this.processed.get(keyOf(tp)) ?? r.position;
      this.dropQueued(r);
    }
  }

  resume(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.readers.get(keyOf(tp))?.resume();
  }

  /** The next record of this partition will be the one at `offset`. */
  seek(tp: TopicPartition & { offset: number }): void {
    const r = this.readers.get(keyOf(tp));
    if (!r) throw new Error(`${keyOf(tp)} is not assigned to this member`);
    r.seek(tp.offset);
    this.dropQueued(r);
  }

  /** Commits what was processed and leaves the group (a static member only closes its session). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.autoCommit);
    for (const r of this.readers.values()) r.stop();
    this.wakeAll();
    await this.idle();
    await this.rebalancing;
    await this.commitProcessed(false);
    if (this.options.instanceId) this.session?.close();
    else await this.session?.leave();
    this.readers.clear();
  }

  // ---- joining and rebalancing ----

  private start(): void {
    if (this.session || this.closed) return;
    if (this.topics.length === 0) throw new Error("subscribe({ topics }) first");
    const session = new GroupSession(
      this.runner,
      {
        groupId: this.options.groupId,
        topics: this.topics,
        clientId: this.options.clientId ?? "raftline-js",
        instanceId: this.options.instanceId ?? "",
        sessionTimeoutMs: this.options.sessionTimeoutMs ?? defaultGroupSessionTimeoutMs,
        assignor: this.options.assignor ?? "",
      },
      {
        assignment: (a) => this.chain(() => this.applyAssignment(a)),
        lost: () => this.chain(() => this.loseAll()),
        resumed: (pauseMs) => this.emit("rejoined", pauseMs),
        failed: (err) => {
          this.failure = err;
          this.emit("error", err);
          void this.close();
        },
      },
    );
    this.session = session;
    session.start();
    if (this.options.autoCommit ?? true) {
      this.autoCommit = setInterval(() => void this.commitProcessed(false), this.options.autoCommitIntervalMs ?? defaultAutoCommitIntervalMs);
      this.autoCommit.unref();
    }
  }

  private chain(step: () => Promise<void>): void {
    this.rebalancing = this.rebalancing.then(step).catch((err: unknown) => {
      this.emit("error", toRaftlineError(err));
    });
  }

  private async applyAssignment(a: Assignment): Promise<void> {
    if (this.closed) return;
    this.emit("assignment", a);
    const assigned = new Set(a.assigned.map(keyOf));
    const gone = [...this.readers.values()].filter((r) => !assigned.has(keyOf(r)));
    if (gone.length > 0) {
      for (const r of gone) r.stop();
      this.queue = this.queue.filter((c) => !c.reader.isStopped);
      this.recount();
      await this.idle();
      await this.commitProcessed(false);
      for (const r of gone) this.forget(keyOf(r));
      this.emit("partitionsRevoked", gone.map((r) => ({ topic: r.topic, partition: r.partition })));
    }
    if (a.revoking.length > 0) this.session?.revoked(a.generation, a.revoking);
    const added = a.assigned.filter((tp) => !this.readers.has(keyOf(tp)));
    if (added.length === 0) return;
    const starts = await this.startOffsets(added);
    for (const tp of added) {
      const start = starts.get(keyOf(tp)) as { offset: number; committed: number };
      this.committed.set(keyOf(tp), start.committed);
      const reader = new PartitionReader(tp.topic, tp.partition, start.offset, this.runner, this.sink, this.options.maxBytes ?? 0);
      this.readers.set(keyOf(tp), reader);
      reader.start();
    }
    this.emit("partitionsAssigned", added);
  }

  private async loseAll(): Promise<void> {
    const lost = [...this.readers.values()];
    for (const r of lost) r.stop();
    this.queue = [];
    this.recount();
    await this.idle();
    for (const r of lost) this.forget(keyOf(r));
    if (lost.length > 0) this.emit("partitionsLost", lost.map((r) => ({ topic: r.topic, partition: r.partition })));
  }

  private forget(key: string): void {
    this.readers.delete(key);
    this.processed.delete(key);
    this.committed.delete(key);
  }

  /** Committed offsets, or the start position, of newly assigned partitions. */
  private async startOffsets(tps: TopicPartition[]): Promise<Map<string, { offset: number; committed: number }>> {
    const response = await this.runner.run(true, (s) =>
      callUnary<FetchOffsetsResponse__Output>(s.address, this.requestTimeoutMs, (o, done) =>
        s.groups.FetchOffsets({ groupId: this.options.groupId, topic: "" }, o, done),
      ),
    );
    const committed = new Map(response.offsets.map((c) => [keyOf(c), c.offset]));
    const out = new Map<string, { offset: number; committed: number }>();
    const described = new Map<string, Awaited<ReturnType<Admin["describeTopic"]>>>();
    for (const tp of tps) {
      const c = committed.get(keyOf(tp));
      if (c !== undefined) {
        out.set(keyOf(tp), { offset: c, committed: c });
        continue;
      }
      if (!described.has(tp.topic)) described.set(tp.topic, await this.admin.describeTopic(tp.topic));
      const info = described.get(tp.topic)?.partitions[tp.partition];
      const offset = (this.options.startFrom ?? "earliest") === "earliest" ? (info?.startOffset ?? 0) : (info?.highWatermark ?? 0);
      out.set(keyOf(tp), { offset, committed: -1 });
    }
    return out;
  }

  // ---- committing ----

  private commitProcessed(manual: boolean): Promise<void> {
    const step = this.committing.then(() => this.commitOnce(manual));
    this.committing = step.catch(() => undefined);
    return step;
  }

  private async commitOnce(manual: boolean): Promise<void> {
    const session = this.session;
    if (!session || session.memberId === "") return;
    const offsets = [...this.processed]
      .filter(([key, offset]) => offset > (this.committed.get(key) ?? -1))
      .map(([key, offset]) => {
        const at = key.lastIndexOf("/");
        return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)), offset, metadata: "" };
      });
    if (offsets.length === 0) return;
    for (let attempt = 0; ; attempt++) {
      const generation = session.generation;
      const request: CommitOffsetsRequest = { groupId: this.options.groupId, memberId: session.memberId, generation, offsets };
      try {
        await this.runner.run(true, (s) =>
          callUnary<CommitOffsetsResponse__Output>(s.address, this.requestTimeoutMs, (o, done) => s.groups.CommitOffsets(request, o, done)),
        );
        for (const o of offsets) this.committed.set(keyOf(o), o.offset);
        return;
      } catch (thrown) {
        const err = toRaftlineError(thrown);
        // A push between reading the generation and the answer: commit again with the new one.
        if (err.reason === "ERROR_REASON_STALE_GENERATION" && session.generation !== generation && attempt < 3) continue;
        this.emit("commitFailed", err);
        if (manual) throw err;
        return;
      }
    }
  }

  // ---- the buffer ----

  private readonly sink: ReaderSink = {
    hasRoom: () => this.closed || this.buffered < this.maxBuffered,
    whenRoom: async () => {
      while (!this.closed && this.buffered >= this.maxBuffered) await new Promise<void>((resolve) => this.waiters.push(resolve));
    },
    deliver: (reader, epoch, records) => {
      this.queue.push({ reader, epoch, records, next: 0 });
      this.buffered += records.length;
      this.wakeAll();
    },
    error: (err) => this.emit("readFailed", err),
  };

  private valid(chunk: Chunk): boolean {
    return !chunk.reader.isStopped && !chunk.reader.paused && chunk.epoch === chunk.reader.epoch;
  }

  private async takeChunk(): Promise<Chunk | undefined> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.closed) return undefined;
      while (this.queue.length > 0 && !this.valid(this.queue[0])) this.releaseChunk(this.queue[0]);
      if (this.queue.length > 0) return this.queue[0];
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private async take(): Promise<ConsumedRecord | undefined> {
    for (;;) {
      const chunk = await this.takeChunk();
      if (!chunk) return undefined;
      if (chunk.next < chunk.records.length) return chunk.records[chunk.next++];
      this.releaseChunk(chunk);
    }
  }

  private releaseChunk(chunk: Chunk): void {
    const i = this.queue.indexOf(chunk);
    if (i >= 0) this.queue.splice(i, 1);
    this.recount();
    this.wakeAll();
  }

  private dropQueued(reader: PartitionReader): void {
    this.queue = this.queue.filter((c) => c.reader !== reader);
    this.recount();
    this.wakeAll();
  }

  private recount(): void {
    this.buffered = this.queue.reduce((n, c) => n + c.records.length - c.next, 0);
  }

  private wakeAll(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private done(key: string, offset: number): void {
    if (this.readers.has(key)) this.processed.set(key, offset + 1);
  }

  private setIdle(): void {
    this.busy = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

export function isGroupOptions(o: object): o is GroupConsumerOptions {
  return typeof (o as { groupId?: unknown }).groupId === "string";
}
