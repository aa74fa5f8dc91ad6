"""Python's confluent-kafka (librdkafka) against Raftline's Kafka listener, driven by
test/integration/kafka-librdkafka.test.ts.

  produce BOOTSTRAP TOPIC PREFIX COUNT   idempotent, acks=all, gzip; prints "progress N" as deliveries
                                         are acknowledged and "acked N" at the end (exit 1 on any failure)
  consume BOOTSTRAP TOPIC GROUP COUNT    reads COUNT records in the group, commits synchronously, prints
                                         one JSON line with the values and closes
"""
import json
import sys

from confluent_kafka import Consumer, Producer


def produce(bootstrap, topic, prefix, count):
    producer = Producer({
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "compression.type": "gzip",
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


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "produce":
        produce(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif mode == "consume":
        consume(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        sys.exit("unknown mode " + mode)
