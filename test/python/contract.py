#!/usr/bin/env python3
"""Contract checks from a Python client generated from proto/raftline/v1, through the leader and a follower:

1. ProduceStream keeps its order: 80 pipelined requests of 1-3 KB records land at offsets 0..79 in order.
2. A 10 KiB topic name is answered INVALID_ARGUMENT with a short message and a reason trailer (gRPC's C core
   refuses answers whose metadata exceeds 8 KiB, which would show as RESOURCE_EXHAUSTED instead).
3. acks outside the Acks enum (3, 7, -1, 2^31-1) is INVALID_ARGUMENT + INVALID_FIELD, and nothing is appended.
4. Bytes that are not a message (ff ff ff) are INVALID_ARGUMENT + MALFORMED_REQUEST, not INTERNAL.

Usage: contract.py --leader HOST:PORT --follower HOST:PORT (the protoc stubs must be on PYTHONPATH).
Exit code 0 on success.
"""
import argparse
import sys
import time
import uuid

import grpc

from raftline.v1 import admin_pb2, admin_pb2_grpc
from raftline.v1 import consumer_pb2, consumer_pb2_grpc
from raftline.v1 import producer_pb2, producer_pb2_grpc
from raftline.v1 import records_pb2

from checks import CALL_TIMEOUT_S, CheckFailed, check, retrying_unavailable, reason_of

STREAM_TIMEOUT_S = 60
PIPELINED_REQUESTS = 80
MAX_MESSAGE_BYTES = 512


def expect_refusal(what, call, code, reason):
    try:
        call()
    except grpc.RpcError as err:
        check(err.code() == code, f"{what}: expected {code.name}, got {err.code().name}: {err.details()}")
        check(reason_of(err) == reason, f"{what}: expected reason {reason}, got {reason_of(err)!r}")
        details = err.details() or ""
        check(len(details.encode()) <= MAX_MESSAGE_BYTES, f"{what}: message of {len(details.encode())} bytes")
        return
    raise CheckFailed(f"{what}: succeeded but must fail with {code.name}")


def create_topic(admin, name):
    request = admin_pb2.CreateTopicRequest(name=name, partitions=1)
    retrying_unavailable(f"create {name}", lambda: admin.CreateTopic(request, timeout=CALL_TIMEOUT_S))


def high_watermark(admin, name):
    d = admin.DescribeTopic(admin_pb2.DescribeTopicRequest(name=name), timeout=CALL_TIMEOUT_S)
    return d.partitions[0].high_watermark


def stream_order(channel, admin, via):
    topic = f"py-order-{via}-{uuid.uuid4().hex[:6]}"
    create_topic(admin, topic)

    def requests():
        for i in range(PIPELINED_REQUESTS):
            value = (f"{i}:".encode() + b"x" * 3000)[: 1024 + (i * 977) % 2048]
            batch = producer_pb2.ProduceBatch(topic=topic, partition=0, records=[records_pb2.Record(value=value)])
            yield producer_pb2.ProduceRequest(correlation_id=i + 1, batches=[batch])

    stub = producer_pb2_grpc.ProducerStub(channel)
    offsets = {}
    for response in stub.ProduceStream(requests(), timeout=STREAM_TIMEOUT_S):
        check(not response.HasField("error"), f"stream via {via}: request {response.correlation_id} failed: {response.error.message}")
        offsets[response.correlation_id] = response.results[0].appends[0].base_offset
    check(len(offsets) == PIPELINED_REQUESTS, f"stream via {via}: {len(offsets)} answers")
    for i in range(PIPELINED_REQUESTS):
        check(offsets[i + 1] == i, f"stream via {via}: request {i + 1} at offset {offsets[i + 1]}, expected {i}")
    consumer = consumer_pb2_grpc.ConsumerStub(channel)
    seen = []
    while len(seen) < PIPELINED_REQUESTS:
        res = consumer.Fetch(consumer_pb2.FetchRequest(topic=topic, partition=0, offset=len(seen), max_wait_ms=1000, min_bytes=1), timeout=CALL_TIMEOUT_S)
        seen += [int(r.value.split(b":")[0]) for r in res.records]
    check(seen == list(range(PIPELINED_REQUESTS)), f"stream via {via}: records fetched out of order")


def long_name(channel, via):
    admin = admin_pb2_grpc.AdminStub(channel)
    name = "n" * 10240
    expect_refusal(
        f"CreateTopic with a 10 KiB name via {via}",
        lambda: admin.CreateTopic(admin_pb2.CreateTopicRequest(name=name, partitions=1), timeout=CALL_TIMEOUT_S),
        grpc.StatusCode.INVALID_ARGUMENT,
        "ERROR_REASON_INVALID_TOPIC_NAME",
    )


def unknown_acks(channel, admin, via):
    topic = f"py-acks-{via}-{uuid.uuid4().hex[:6]}"
    create_topic(admin, topic)
    stub = producer_pb2_grpc.ProducerStub(channel)
    for acks in (3, 7, -1, 2**31 - 1):
        batch = producer_pb2.ProduceBatch(topic=topic, partition=0, records=[records_pb2.Record(value=b"x")])
        request = producer_pb2.ProduceRequest(batches=[batch], acks=acks)
        expect_refusal(
            f"Produce with acks={acks} via {via}",
            lambda: stub.Produce(request, timeout=CALL_TIMEOUT_S),
            grpc.StatusCode.INVALID_ARGUMENT,
            "ERROR_REASON_INVALID_FIELD",
        )
    check(high_watermark(admin, topic) == 0, f"acks via {via}: a refused request appended records")


def garbage(channel, via):
    for path in (
        "/raftline.v1.Producer/Produce",
        "/raftline.v1.Producer/InitProducer",
        "/raftline.v1.Admin/CreateTopic",
        "/raftline.v1.Consumer/Fetch",
    ):
        raw = channel.unary_unary(path, request_serializer=None, response_deserializer=None)
        expect_refusal(
            f"ff ff ff to {path} via {via}",
            lambda: raw(b"\xff\xff\xff", timeout=CALL_TIMEOUT_S),
            grpc.StatusCode.INVALID_ARGUMENT,
            "ERROR_REASON_MALFORMED_REQUEST",
        )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--leader", required=True)
    parser.add_argument("--follower", required=True)
    args = parser.parse_args()
    leader_admin = admin_pb2_grpc.AdminStub(grpc.insecure_channel(args.leader))
    for via, address in (("leader", args.leader), ("follower", args.follower)):
        channel = grpc.insecure_channel(address)
        stream_order(channel, leader_admin, via)
        long_name(channel, via)
        unknown_acks(channel, leader_admin, via)
        garbage(channel, via)
    print(f"python contract checks ok via leader {args.leader} and follower {args.follower}")


if __name__ == "__main__":
    try:
        main()
    except CheckFailed as err:
        print(f"FAILED: {err}", file=sys.stderr)
        sys.exit(1)
