// The SDK's entry point: `new RaftlineClient({ brokers })`, then admin(), producer() and consumer().
// All of them share the client's connections (one channel per broker) and its knowledge of the leader.
import type { DescribeClusterResponse__Output } from "../generated/raftline/v1/DescribeClusterResponse";
import type { InitProducerResponse__Output } from "../generated/raftline/v1/InitProducerResponse";
import { Admin } from "./admin";
import { GroupsAdmin } from "./groups-admin";
import { BrokerPool, ChannelLimits, defaultChannelLimits } from "./broker-pool";
import { CallRunner, callUnary } from "./call-runner";
import { Consumer, ConsumerOptions } from "./consumer";
import { GroupConsumer, GroupConsumerOptions, isGroupOptions } from "./group-consumer";
import { MemberRefresh, MemberView, defaultMemberRefreshMs } from "./member-refresh";
import { IdempotenceCalls, Producer } from "./producer";
import { ProducerOptions, resolveProducerLimits } from "./producer-options";
import { RetryPolicy, resolvePolicy } from "./retry";
import { QueueOptions, WorkQueue } from "./work-queue";
import { SharesAdmin } from "./shares-admin";

export interface RaftlineClientOptions {
  /** Bootstrap brokers, "host:port"; any one is enough, more survive its failure. */
  brokers: string[];
  /** Sent in the user agent, to tell clients apart in server logs. */
  clientId?: string;
  /** Default retry policy of every call; a producer may override it. */
  retry?: Partial<RetryPolicy>;
  /** Deadline of one unary call (a fetch adds its maxWaitMs). */
  requestTimeoutMs?: number;
  channel?: Partial<ChannelLimits>;
  /**
   * How often the client refreshes its broker list from DescribeCluster, in ms (it also does soon after
   * starting and when a broker cannot be reached). 0: never on its own. Default 30000.
   */
  memberRefreshMs?: number;
}

const defaultRequestTimeoutMs = 10000;
/** Asking a broker who leads must not hold a send up for long. */
const leaderDiscoveryTimeoutMs = 1000;

export class RaftlineClient {
  private readonly runner: CallRunner;
  private readonly requestTimeoutMs: number;
  private readonly producers = new Set<Producer>();
  private readonly members = new Set<GroupConsumer>();
  private readonly refresh: MemberRefresh;
  private readonly queues = new Set<WorkQueue>();

  constructor(options: RaftlineClientOptions) {
    const policy = resolvePolicy(options.retry);
    const pool = new BrokerPool(options.brokers, options.clientId ?? "raftline-client", {
      ...defaultChannelLimits,
      ...options.channel,
    });
    this.runner = new CallRunner(pool, policy);
    this.requestTimeoutMs = options.requestTimeoutMs ?? defaultRequestTimeoutMs;
    this.refresh = new MemberRefresh(pool, (address) => this.describeAt(address), options.memberRefreshMs ?? defaultMemberRefreshMs);
    this.refresh.start();
  }

  admin(): Admin {
    return new Admin(this.runner, this.requestTimeoutMs);
  }

  /** Consumer-group administration. */
  groups(): GroupsAdmin {
    return new GroupsAdmin(this.runner, this.requestTimeoutMs);
  }

  /** Share-group (work queue) administration: describe, list. */
  shares(): SharesAdmin {
    return new SharesAdmin(this.runner, this.requestTimeoutMs);
  }

  /** A work-queue consumer of share group `group` on `topic` (the group is created on first use). */
  queue(options: QueueOptions): WorkQueue {
    const queue = new WorkQueue(this.runner, this.requestTimeoutMs, options);
    this.queues.add(queue);
    return queue;
  }

  producer(options: ProducerOptions = {}): Producer {
    const policy = options.retry ? resolvePolicy({ ...this.runner.policy, ...options.retry }) : this.runner.policy;
    const limits = resolveProducerLimits(options);
    const idempotence = limits.idempotent ? this.idempotenceCalls(policy, options.producerId ?? 0) : undefined;
    const producer = new Producer(this.runner, limits, policy, () => this.discoverLeader(), idempotence);
    this.producers.add(producer);
    return producer;
  }

  /** With a groupId: a member of that consumer group. Without: a reader of partitions it names. */
  consumer(options: GroupConsumerOptions): GroupConsumer;
  consumer(options?: ConsumerOptions): Consumer;
  consumer(options: ConsumerOptions | GroupConsumerOptions = {}): Consumer | GroupConsumer {
    if (isGroupOptions(options)) {
      const member = new GroupConsumer(this.runner, this.requestTimeoutMs, options);
      this.members.add(member);
      return member;
    }
    return new Consumer(this.runner, this.requestTimeoutMs, options);
  }

  /**
   * Closes every producer, then every connection. By default producers flush first; `flush: false`
   * fails their unanswered sends with CANCELLED instead of waiting.
   */
  async close(options: { flush?: boolean } = {}): Promise<void> {
    if (options.flush === false) for (const p of this.producers) p.abort();
    else await Promise.all([...this.producers].map((p) => p.close()));
    this.producers.clear();
    await Promise.all([...this.members].map((m) => m.close()));
    this.members.clear();
    this.refresh.stop();
    await Promise.all([...this.queues].map((q) => q.close()));
    this.queues.clear();
    this.runner.pool.close();
  }

  private idempotenceCalls(policy: RetryPolicy, producerId: number): IdempotenceCalls {
    const admin = this.admin();
    return {
      producerId,
      initProducer: async (id) => {
        const response = await this.runner.run(
          true,
          (s) =>
            callUnary<InitProducerResponse__Output>(s.address, this.requestTimeoutMs, (o, done) =>
              s.producer.InitProducer({ producerId: id }, o, done),
            ),
          policy,
        );
        return { producerId: response.producerId, epoch: response.producerEpoch };
      },
      partitionCount: async (topic) => (await admin.describeTopic(topic)).partitions.length,
    };
  }

  /** One quick DescribeCluster to any broker; the pool remembers the leader and the members it names. */
  private async discoverLeader(): Promise<void> {
    const pool = this.runner.pool;
    const view = await this.describeAt(pool.target(false));
    pool.noteMembers(view.members);
    pool.noteLeader(view.leader);
  }

  private async describeAt(address: string): Promise<MemberView> {
    const pool = this.runner.pool;
    const response = await callUnary<DescribeClusterResponse__Output>(address, leaderDiscoveryTimeoutMs, (o, done) =>
      pool.stubs(address).admin.DescribeCluster({}, o, done),
    );
    return { members: response.nodes.map((n) => n.address), leader: response.nodes.find((n) => n.id === response.leaderId)?.address };
  }
}
