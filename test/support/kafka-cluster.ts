// A test cluster whose nodes also speak the Kafka protocol, each on its own free port (all nodes learn
// every listener through RAFTLINE_KAFKA_MEMBERS, so Metadata can name them all).
import { Cluster, ClusterOptions, startCluster } from "./cluster";
import { freePorts } from "./ports";

export interface KafkaCluster {
  cluster: Cluster;
  /** host:port of every node's Kafka listener, in node order. */
  brokers: string[];
  kafkaAddressOf(id: number): string;
}

export async function startKafkaCluster(options: ClusterOptions = {}): Promise<KafkaCluster> {
  const count = options.nodes ?? 3;
  const ports = await freePorts(count);
  const brokers = ports.map((p) => `127.0.0.1:${p}`);
  const members = brokers.map((b, i) => `${i + 1}=${b}`).join(";");
  const cluster = await startCluster({ ...options, env: { ...options.env, RAFTLINE_KAFKA_MEMBERS: members } });
  return { cluster, brokers, kafkaAddressOf: (id) => brokers[id - 1] };
}
