// Requests by service, method and final status, and the latency of unary calls, from a server
// interceptor: every service is covered without touching its handlers.
import * as grpc from "@grpc/grpc-js";
import { Counter, Histogram, type Registry } from "prom-client";

/** Seconds; from a fast local read to a produce waiting out an election. */
const latencyBucketsSeconds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const statusNames = new Map<number, string>(
  Object.entries(grpc.status)
    .filter((e): e is [string, number] => typeof e[1] === "number")
    .map(([name, code]) => [code, name]),
);

export function rpcInterceptor(registry: Registry): grpc.ServerInterceptor {
  const requests = new Counter({
    name: "raftline_rpc_requests_total",
    help: "gRPC calls handled by this node, by service, method and final status code",
    labelNames: ["service", "method", "code"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "raftline_rpc_duration_seconds",
    help: "Time from a unary call's arrival to its status, by service and method (streams are not timed)",
    labelNames: ["service", "method"] as const,
    buckets: latencyBucketsSeconds,
    registers: [registry],
  });
  return (method: grpc.ServerMethodDefinition<unknown, unknown>, call: grpc.ServerInterceptingCallInterface) => {
    const [service = "", name = ""] = method.path.slice(1).split("/");
    const unary = !method.requestStream && !method.responseStream;
    const startNs = process.hrtime.bigint();
    let counted = false;
    const count = (code: string): void => {
      if (counted) return;
      counted = true;
      requests.inc({ service, method: name, code });
    };
    // A call the client cancels (a subscriber closing its stream, say) ends without a status being sent.
    const onCancel = new grpc.ServerListenerBuilder().withOnCancel(() => count("CANCELLED")).build();
    const responder = new grpc.ResponderBuilder()
      .withStart((next) => next(onCancel))
      .withSendStatus((status, next) => {
        count(statusNames.get(status.code) ?? String(status.code));
        if (unary) latency.observe({ service, method: name }, Number(process.hrtime.bigint() - startNs) / 1e9);
        next(status);
      })
      .build();
    return new grpc.ServerInterceptingCall(call, responder);
  };
}
