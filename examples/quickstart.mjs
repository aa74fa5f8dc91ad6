// Create a topic, produce three records, read them back. Run against `npm start`'s cluster:
//   node examples/quickstart.mjs          (RAFTLINE_BROKERS=host:port,... to point elsewhere)
import { RaftlineClient } from "raftline/client";

const brokers = (process.env.RAFTLINE_BROKERS ?? "127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003").split(",");
const client = new RaftlineClient({ brokers });
const topic = `quickstart-${Date.now()}`;

await client.admin().createTopic({ name: topic, partitions: 1 });

const producer = client.producer({ idempotent: true });
const placed = await producer.send({
  topic,
  records: [
    { key: "sensor-1", value: "21.5" },
    { key: "sensor-2", value: "19.0" },
    { key: "sensor-1", value: "21.7", headers: [{ key: "unit", value: "celsius" }] },
  ],
});
console.log(`produced at offsets ${placed.map((p) => p.offset).join(", ")}`);

const { records } = await client.consumer().fetch({ topic, partition: 0, offset: 0, maxWaitMs: 1000 });
for (const r of records) console.log(`${r.offset}: ${r.key?.toString()} = ${r.value.toString()}`);

await client.close();
