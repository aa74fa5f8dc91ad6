// GET /metrics: the node's registry in Prometheus text format.
import type { Registry } from "prom-client";
import type { Route } from "./http-server";

export function metricsRoute(registry: Registry): Route {
  return async (_req, res) => {
    const body = await registry.metrics();
    res.writeHead(200, { "content-type": registry.contentType }).end(body);
  };
}
