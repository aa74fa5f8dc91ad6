#!/usr/bin/env python3
"""Raftline from Python with stubs generated from proto/raftline/v1: create a topic, produce, fetch.

Generate the stubs once (pip install grpcio-tools, or Debian's protobuf-compiler-grpc):
    python3 -m grpc_tools.protoc -I proto --python_out=gen --grpc_python_out=gen proto/raftline/v1/*.proto
Then:
    PYTHONPATH=gen python3 examples/python/quickstart.py [--broker 127.0.0.1:7001]
Against a cluster with security on (`raftline dev --secure` prints these paths):
    PYTHONPATH=gen python3 examples/python/quickstart.py --tls-ca data/tls/ca.crt --token-file data/tls/superuser.token
    (or --tls-cert data/tls/admin.crt --tls-key data/tls/admin.key instead of a token)

Any node answers every call; a follower forwards writes to the leader.
"""
import argparse
import time

import grpc

from raftline.v1 import admin_pb2, admin_pb2_grpc
from raftline.v1 import consumer_pb2, consumer_pb2_grpc
from raftline.v1 import producer_pb2, producer_pb2_grpc
from raftline.v1 import records_pb2


def read(path):
    with open(path, "rb") as f:
        return f.read()


def open_channel(args):
    """Plaintext, or TLS with the cluster's CA, a client certificate and/or a bearer token on every call."""
    if not args.tls_ca:
        return grpc.insecure_channel(args.broker)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=read(args.tls_ca),
        private_key=read(args.tls_key) if args.tls_key else None,
        certificate_chain=read(args.tls_cert) if args.tls_cert else None,
    )
    if args.token_file:
        token = read(args.token_file).decode().strip()
        credentials = grpc.composite_channel_credentials(credentials, grpc.access_token_call_credentials(token))
    return grpc.secure_channel(args.broker, credentials)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--broker", default="127.0.0.1:7001")
    parser.add_argument("--tls-ca", help="connect with TLS, trusting this CA (PEM)")
    parser.add_argument("--tls-cert", help="client certificate (PEM); its subject common name is the principal")
    parser.add_argument("--tls-key", help="the client certificate's key (PEM)")
    parser.add_argument("--token-file", help="file holding a bearer token (raftline token create)")
    args = parser.parse_args()
    channel = open_channel(args)
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
