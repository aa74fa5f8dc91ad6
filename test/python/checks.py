"""What the polyglot scripts share: a failed check, retries while the cluster settles, reason trailers."""
import time

import grpc

CALL_TIMEOUT_S = 10
# The leader may still be settling right after the cluster starts: retry UNAVAILABLE this long.
UNAVAILABLE_RETRY_DEADLINE_S = 15


class CheckFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def retrying_unavailable(what, call):
    deadline = time.monotonic() + UNAVAILABLE_RETRY_DEADLINE_S
    while True:
        try:
            return call()
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                raise CheckFailed(f"{what}: {err.code().name}: {err.details()}") from err
            time.sleep(0.1)


def reason_of(err):
    for key, value in err.trailing_metadata() or ():
        if key == "raftline-error-reason":
            return value
    return ""
