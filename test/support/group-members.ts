// Consumer-group members for tests: SDK members that record what they consumed and every assignment
// and rebalance event, and a raw Join stream that can vanish without leaving (as a crashed process does).
import * as grpc from "@grpc/grpc-js";
import type { ConsumedRecord, GroupConsumer, GroupConsumerOptions, RaftlineClient, TopicPartition } from "../../src/client";
import type { JoinRequest } from "../../src/generated/raftline/v1/JoinRequest";
import type { JoinResponse__Output } from "../../src/generated/raftline/v1/JoinResponse";
import type { RawStubs } from "./raw-stubs";

export const tpName = (tp: TopicPartition): string => `${tp.topic}/${tp.partition}`;

export class RecordingMember {
  readonly consumer: GroupConsumer;
  readonly records: ConsumedRecord[] = [];
  readonly events: { kind: string; partitions: string[]; atMs: number }[] = [];
  readonly pauses: number[] = [];
  running: Promise<void> | undefined;

  constructor(client: RaftlineClient, options: GroupConsumerOptions, topics: string[]) {
    this.consumer = client.consumer(options);
    this.consumer.subscribe({ topics });
    for (const kind of ["partitionsAssigned", "partitionsRevoked", "partitionsLost"]) {
      this.consumer.on(kind, (tps: TopicPartition[]) => this.events.push({ kind, partitions: tps.map(tpName).sort(), atMs: Date.now() }));
    }
    this.consumer.on("rejoined", (ms: number) => this.pauses.push(ms));
  }

  start(handle?: (r: ConsumedRecord) => Promise<void> | void): this {
    this.running = this.consumer.run({
      eachMessage: async (r) => {
        this.records.push(r);
        await handle?.(r);
      },
    });
    return this;
  }

  owned(): string[] {
    return this.consumer.assignment().map(tpName).sort();
  }

  count(kind: string): number {
    return this.events.filter((e) => e.kind === kind).length;
  }

  async close(): Promise<void> {
    await this.consumer.close();
    await this.running;
  }
}

/** A member speaking the raw contract, to vanish without leaving or to probe the coordinator. */
export class RawMember {
  readonly assignments: JoinResponse__Output[] = [];
  error: grpc.ServiceError | undefined;
  private readonly call: grpc.ClientDuplexStream<JoinRequest, JoinResponse__Output>;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(stubs: RawStubs, join: NonNullable<JoinRequest["join"]>, heartbeatMs = 500) {
    this.call = stubs.groups.Join();
    this.call.on("data", (res: JoinResponse__Output) => this.assignments.push(res));
    this.call.on("error", (err: grpc.ServiceError) => {
      this.error = err;
      clearInterval(this.heartbeat);
    });
    this.call.on("end", () => clearInterval(this.heartbeat));
    this.call.write({ join });
    this.heartbeat = setInterval(() => this.call.write({ heartbeat: {} }), heartbeatMs);
  }

  get latest(): JoinResponse__Output | undefined {
    return this.assignments[this.assignments.length - 1];
  }

  send(req: JoinRequest): void {
    this.call.write(req);
  }

  /** Gone without a word, like a killed process: the stream is cut, no leave is sent. */
  vanish(): void {
    clearInterval(this.heartbeat);
    this.call.cancel();
  }
}
