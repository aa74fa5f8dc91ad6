// What the services report about the records they move, so metrics can count them without the services
// knowing about Prometheus.
/** "kafka-fetch": a Fetch on the Kafka listener. */
export type ReadRpc = "fetch" | "subscribe" | "kafka-fetch";

export interface TrafficCounters {
  /** Records a client of this node produced and the leader accepted (counted once, where the client called). */
  produced(records: number, bytes: number): void;
  /** Records this node sent to a reader; bytes as encoded in the response. */
  consumed(rpc: ReadRpc, records: number, bytes: number): void;
}

export const uncountedTraffic: TrafficCounters = {
  produced: () => undefined,
  consumed: () => undefined,
};
