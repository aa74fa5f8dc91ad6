// The SDK's entry point: `new RaftlineClient({ brokers })`, then admin(), producer() and consumer().
// All of them share the client's connections (one channel per broker) and its knowledge of the leader.
import { type SecurityOptions, channelCredentials } from "./credentials";
import { SecurityAdmin } from "./security-admin";
import type { DescribeClusterResponse__Output } from "../generated/raftline/v1/DescribeClusterResponse";
import type { InitProducerResponse__Output } from "../generated/raftline/v1/InitProducerResponse";
import { Admin } from "./admin";
import { GroupsAdmin } from "./groups-admin";
import { BrokerPool, ChannelLimits, defaultChannelLimits } from "./broker-pool";
import { CallRunner, callUnary } from "./call-runner";
import { Consumer, ConsumerOptions } from "./consumer";
import { GroupConsumer, GroupConsumerOptions, isGroupOptions } from "./group-consumer";
import { IdempotenceCalls, Producer } from "./producer";
import { ProducerOptions, resolveProducerLimits } from "./producer-options";
import { RetryPolicy, resolvePolicy } from "./retry";

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
  /** TLS (the cluster's CA, a client certificate) and a bearer token, for a cluster with security on. */
  tls?: SecurityOptions["tls"];
  token?: string;
}

const defaultRequestTimeoutMs = 10000;
/** Asking a broker who leads must not hold a send up for long. */
const leaderDiscoveryTimeoutMs = 1000;

export class RaftlineClient {
  private readonly runner: CallRunner;
  private readonly requestTimeoutMs: number;
  private readonly producers = new Set<Producer>();
  private readonly members = new Set<GroupConsumer>();

  constructor(options: RaftlineClientOptions) {
    const policy = resolvePolicy(options.retry);
    const pool = new BrokerPool(options.brokers, options.clientId ?? "raftline-client", {
      ...defaultChannelLimits,
      ...options.channel,
    }, channelCredentials(options));
    this.runner = new CallRunner(pool, policy);
    this.requestTimeoutMs = options.requestTimeoutMs ?? defaultRequestTimeoutMs;
  }

  admin(): Admin {
    return new Admin(this.runner, this.requestTimeoutMs);
  }

  /** ACLs, tokens, and who this client authenticates as. */
  security(): SecurityAdmin {
    return new SecurityAdmin(this.runner, this.requestTimeoutMs);
  }

  /** Consumer-group administration. */
  groups(): GroupsAdmin {
    return new GroupsAdmin(this.runner, this.requestTimeoutMs);
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

  /** One quick DescribeCluster to any broker; the pool remembers the leader it names. */
  private async discoverLeader(): Promise<void> {
    const pool = this.runner.pool;
    const address = pool.target(false);
    const response = await callUnary<DescribeClusterResponse__Output>(address, leaderDiscoveryTimeoutMs, (o, done) =>
      pool.stubs(address).admin.DescribeCluster({}, o, done),
    );
    pool.noteLeader(response.nodes.find((n) => n.id === response.leaderId)?.address);
  }
}
