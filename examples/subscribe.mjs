// Follow a partition as records commit: a subscription is an async iterator that resumes by itself
// after a leader change. Produces a few records in the background and stops after reading them.
//   node examples/subscribe.mjs           (RAFTLINE_BROKERS=host:port,... to point elsewhere)
import { RaftlineClient } from "raftline/client";

const brokers = (process.env.RAFTLINE_BROKERS ?? "127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003").split(",");
const client = new RaftlineClient({ brokers });
const topic = `events-${Date.now()}`;
await client.admin().createTopic({ name: topic, partitions: 1 });

const subscription = client.consumer().subscribe({ topic, partition: 0, from: "earliest" });
const producer = client.producer();
const sending = (async () => {
  for (let i = 1; i <= 5; i++) await producer.send({ topic, records: [{ value: `event ${i}` }] });
})();

let seen = 0;
for await (const record of subscription) {
  console.log(`offset ${record.offset}: ${record.value.toString()}`);
  if (++seen === 5) break;
}
await sending;
await client.close();
