// The client side of a member's Join stream: joins, sends heartbeats, hands each pushed assignment to
// the consumer, acknowledges revocations and leaves. A broken stream (leader change, node restart) is
// reopened at the leader with the member id, so the member keeps its partitions and generation; a
// member the group no longer knows joins again as a new member.
import type * as grpc from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import type { JoinGroup } from "../generated/raftline/v1/JoinGroup";
import type { JoinRequest } from "../generated/raftline/v1/JoinRequest";
import type { JoinResponse__Output } from "../generated/raftline/v1/JoinResponse";
import type { CallRunner } from "./call-runner";
import { RaftlineError, toRaftlineError } from "./errors";
import { RetryBudget } from "./retry";

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface Assignment {
  memberId: string;
  generation: number;
  assigned: TopicPartition[];
  revoking: TopicPartition[];
}

export interface SessionHandlers {
  assignment(a: Assignment): void;
  /** The group dropped this member (session expired): its partitions are no longer its own. */
  lost(err: RaftlineError): void;
  /** The stream was reopened after a break that lasted `pauseMs`. */
  resumed(pauseMs: number): void;
  /** The session cannot go on (a bad request, fenced by a newer static member). */
  failed(err: RaftlineError): void;
}

/** How long leave() waits for the coordinator to confirm. */
const leaveTimeoutMs = 5000;

function flatten(list: JoinResponse__Output["assigned"]): TopicPartition[] {
  return list.flatMap((tp) => tp.partitions.map((partition) => ({ topic: tp.topic, partition })));
}

export class GroupSession {
  memberId = "";
  generation = -1;
  private call: grpc.ClientDuplexStream<JoinRequest, JoinResponse__Output> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;
  private leaving: (() => void) | undefined;
  private brokenAtMs: number | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly runner: CallRunner,
    private readonly join: Omit<JoinGroup, "memberId">,
    private readonly handlers: SessionHandlers,
  ) {}

  start(): void {
    this.running ??= this.loop();
  }

  revoked(generation: number, partitions: TopicPartition[]): void {
    const byTopic = new Map<string, number[]>();
    for (const tp of partitions) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
    this.call?.write({ revoked: { generation, partitions: [...byTopic].map(([topic, ps]) => ({ topic, partitions: ps })) } });
  }

  /** Leaves the group (its partitions move at once) and ends the stream. */
  async leave(): Promise<void> {
    const call = this.call;
    if (!call || this.closed || this.memberId === "") return this.close();
    const confirmed = new Promise<void>((resolve) => {
      this.leaving = resolve;
      setTimeout(resolve, leaveTimeoutMs).unref();
    });
    call.write({ leave: {} });
    await confirmed;
    this.close();
  }

  /** Ends the stream without leaving: a static member keeps its partitions for its session timeout. */
  close(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    this.call?.end();
    this.call?.cancel();
  }

  private async loop(): Promise<void> {
    const budget = new RetryBudget({ ...this.runner.policy, maxAttempts: Number.MAX_SAFE_INTEGER }, this.runner.clock);
    while (!this.closed) {
      const address = this.runner.pool.target(true);
      let established = false;
      try {
        await this.session(address, () => {
          established = true;
          budget.reset();
        });
        if (this.closed) return;
        throw new RaftlineError({ code: status.UNAVAILABLE, message: "the coordinator ended the session", address });
      } catch (thrown) {
        if (this.closed) return;
        const err = toRaftlineError(thrown, address);
        // Only a session that was up can be broken: a first join redirected to the leader is not a pause.
        if (this.memberId !== "") this.brokenAtMs ??= Date.now();
        if (err.reason === "ERROR_REASON_UNKNOWN_MEMBER") {
          this.memberId = "";
          this.generation = -1;
          this.handlers.lost(err);
          continue;
        }
        this.runner.pool.noteError(err);
        // A break of a session that was up starts a fresh retry budget, however long the session lasted
        // since its last push.
        if (established) budget.reset();
        const waitMs = err.reason === "ERROR_REASON_MEMBER_ALREADY_JOINED" ? 100 : budget.next(err);
        if (waitMs === undefined) {
          this.closed = true;
          this.handlers.failed(err);
          return;
        }
        if (waitMs > 0) await this.runner.clock.sleep(waitMs);
      }
    }
  }

  /** One stream: resolves when it ends, rejects with its error. */
  private session(address: string, progressed: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const call = this.runner.pool.stubs(address).groups.Join();
      this.call = call;
      call.on("data", (res: JoinResponse__Output) => {
        progressed();
        if (this.brokenAtMs !== undefined) {
          this.handlers.resumed(Date.now() - this.brokenAtMs);
          this.brokenAtMs = undefined;
        }
        this.memberId = res.memberId;
        this.generation = res.generation;
        this.startHeartbeat(call, res.heartbeatIntervalMs);
        this.handlers.assignment({ memberId: res.memberId, generation: res.generation, assigned: flatten(res.assigned), revoking: flatten(res.revoking) });
      });
      call.on("error", (err) => {
        clearInterval(this.heartbeat);
        reject(err);
      });
      call.on("end", () => {
        clearInterval(this.heartbeat);
        this.leaving?.();
        resolve();
      });
      call.write({ join: { ...this.join, memberId: this.memberId } });
    });
  }

  private startHeartbeat(call: grpc.ClientDuplexStream<JoinRequest, JoinResponse__Output>, intervalMs: number): void {
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => call.write({ heartbeat: {} }), Math.max(100, intervalMs));
    this.heartbeat.unref();
  }
}
