#!/usr/bin/env python3
"""Raftline from Python with stubs generated from proto/raftline/v1: create a topic, produce, fetch.

Generate the stubs once (pip install grpcio-tools, or Debian's protobuf-compiler-grpc):
    python3 -m grpc_tools.protoc -I proto --python_out=gen --grpc_python_out=gen proto/raftline/v1/*.proto
Then:
    PYTHONPATH=gen python3 examples/python/quickstart.py [--broker 127.0.0.1:7001]

Any node answers every call; a follower forwards writes to the leader.
"""
import argparse
import time

import grpc

from raftline.v1 import admin_pb2, admin_pb2_grpc
from raftline.v1 import consumer_pb2, consumer_pb2_grpc
from raftline.v1 import producer_pb2, producer_pb2_grpc
from raftline.v1 import records_pb2


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--broker", default="127.0.0.1:7001")
    broker = parser.parse_args().broker
    channel = grpc.insecure_channel(broker)
    admin = admin_pb2_grpc.AdminStub(channel)
    producer = producer_pb2_grpc.ProducerStub(channel)
    consumer = consumer_pb2_grpc.ConsumerStub(channel)

    topic = f"python-{int(time.time() * 1000)}"
    admin.CreateTopic(admin_pb2.CreateTopicRequest(name=topic, partitions=1), timeout=10)

    records = [records_pb2.Record(key=b"sensor-1", value=f"reading {i}".encode()) for i in range(3)]
    answer = producer.Produce(
        producer_pb2.ProduceRequest(batches=[producer_pb2.ProduceBatch(topic=topic, partition=0, records=records)]),
        timeout=10,
    )
    print(f"produced at base offset {answer.results[0].appends[0].base_offset}")

    fetched = consumer.Fetch(consumer_pb2.FetchRequest(topic=topic, partition=0, offset=0), timeout=10)
    for r in fetched.records:
        print(f"{r.offset}: {r.key.decode()} = {r.value.decode()}")


if __name__ == "__main__":
    main()
