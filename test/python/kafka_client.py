"""Python's confluent-kafka (librdkafka) against Raftline's Kafka listener, driven by
test/integration/kafka-librdkafka.test.ts.

  produce BOOTSTRAP TOPIC PREFIX COUNT [CODEC]
                                         idempotent, acks=all, gzip unless CODEC says otherwise (none,
                                         snappy, lz4, zstd); prints "progress N" as deliveries are
                                         acknowledged and "acked N" at the end (exit 1 on any failure)
  consume BOOTSTRAP TOPIC GROUP COUNT    reads COUNT records in the group, commits synchronously, prints
                                         one JSON line with the values and closes
  configs BOOTSTRAP TOPIC BROKER_ID      describes the topic's and the broker's configs and a missing
                                         topic's; prints one JSON line {"topic": {...}, "broker": {...},
                                         "missing": "ERROR_NAME"}
"""
import json
import sys

from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, ConfigResource


def produce(bootstrap, topic, prefix, count, codec):
    producer = Producer({
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "compression.type": codec,
        "linger.ms": 5,
        "message.timeout.ms": 60000,
    })
    acked = []
    failed = []

    def delivered(err, msg):
        if err is not None:
            failed.append(str(err))
        else:
            acked.append(msg.value().decode())
            if len(acked) % 20 == 0:
                print("progress", len(acked), flush=True)

    for i in range(count):
        producer.produce(topic, key=("k%d" % i).encode(), value=("%s-%d" % (prefix, i)).encode(),
                         headers=[("origin", b"python")], on_delivery=delivered)
        producer.poll(0)
        if i % 20 == 19:
            producer.flush(60)
    producer.flush(60)
    if failed or len(acked) != count:
        print("failed", failed[:5], "acked", len(acked), flush=True)
        sys.exit(1)
    print("acked", len(acked), flush=True)


def consume(bootstrap, topic, group, count):
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 10000,
    })
    consumer.subscribe([topic])
    values = []
    misses = 0
    while len(values) < count and misses < 60:
        msg = consumer.poll(1.0)
        if msg is None:
            misses += 1
            continue
        if msg.error():
            continue
        values.append(msg.value().decode())
    consumer.commit(asynchronous=False)
    consumer.close()
    print(json.dumps(values), flush=True)
    if len(values) < count:
        sys.exit(1)


def configs(bootstrap, topic, broker_id):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    wanted = [ConfigResource("topic", topic), ConfigResource("broker", broker_id)]
    described = admin.describe_configs(wanted, request_timeout=30)
    result = {}
    for resource, future in described.items():
        entries = future.result(timeout=30)
        kind = "topic" if resource.restype == ConfigResource.Type.TOPIC else "broker"
        result[kind] = {name: entry.value for name, entry in entries.items()}
    try:
        admin.describe_configs([ConfigResource("topic", "absent-" + topic)], request_timeout=30)[
            ConfigResource("topic", "absent-" + topic)].result(timeout=30)
        result["missing"] = None
    except KafkaException as e:
        result["missing"] = e.args[0].name()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "produce":
        produce(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6] if len(sys.argv) > 6 else "gzip")
    elif mode == "consume":
        consume(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif mode == "configs":
        configs(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit("unknown mode " + mode)
