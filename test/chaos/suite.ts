// The workloads a chaos run puts on the cluster. A new feature joins the suite by adding its workload here
// (its own load, history notes and checks; see workload.ts).
import { GroupWorkload } from "./group-workload";
import { KafkaGroupWorkload } from "./kafka-group-workload";
import { KafkaWorkload } from "./kafka-workload";
import { ProducerWorkload } from "./producer-workload";
import { QueueWorkload } from "./queue-workload";
import { RawProducerWorkload } from "./raw-producer-workload";
import { SubscriberWorkload } from "./subscriber-workload";
import { Workload, chaosTopic } from "./workload";

/** Each producer's pace: about 33 sends a second, some 170 records a second from the five producers. */
const sendIntervalMs = 30;
/** Enough open sends to ride out a fault of a few seconds without the pacer stalling. */
const maxOutstandingSends = 250;
/**
 * A request unanswered this long is retried. The SDK's default (30 s) would let a paused leader hold every
 * write for the whole pause; a chaos client wants to move on once another leader can have been elected.
 */
const requestTimeoutMs = 2000;

/** `kafka`: add the Kafka-client workload (not with security on: the Kafka listener has no TLS or SASL). */
export function chaosWorkloads(options: { kafka: boolean }): Workload[] {
  const workloads: Workload[] = [
    new ProducerWorkload({
      name: "plain",
      producers: 2,
      topic: chaosTopic,
      idempotent: false,
      maxInFlight: 4,
      sendIntervalMs,
      maxOutstandingSends,
      requestTimeoutMs,
    }),
    new ProducerWorkload({
      name: "serial",
      producers: 1,
      topic: chaosTopic,
      idempotent: false,
      maxInFlight: 1,
      sendIntervalMs,
      maxOutstandingSends,
      requestTimeoutMs,
    }),
    new ProducerWorkload({
      name: "idem",
      producers: 2,
      topic: chaosTopic,
      idempotent: true,
      maxInFlight: 4,
      sendIntervalMs,
      maxOutstandingSends,
      requestTimeoutMs,
    }),
    new RawProducerWorkload({ name: "raw", topic: chaosTopic, sendIntervalMs, maxOutstandingSends, requestTimeoutMs }),
    new SubscriberWorkload({ name: "sub-leader", topic: chaosTopic, readFrom: "leader" }),
    new SubscriberWorkload({ name: "sub-any", topic: chaosTopic, readFrom: "any" }),
    new GroupWorkload({ name: "group", topic: chaosTopic, members: 3, churnEveryMs: 7000, sessionTimeoutMs: 3000, requestTimeoutMs }),
    new QueueWorkload({ name: "queue", topic: chaosTopic, churnEveryMs: 9000, requestTimeoutMs }),
  ];
  if (options.kafka) {
    workloads.push(
      new KafkaWorkload({ name: "kafka", topic: chaosTopic, sendIntervalMs, requestTimeoutMs }),
      new KafkaGroupWorkload({ name: "kafka-group", topic: chaosTopic, sessionTimeoutMs: 6000, requestTimeoutMs }),
    );
  }
  return workloads;
}
