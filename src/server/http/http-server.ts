// The node's HTTP port: /metrics for Prometheus and the dashboard with its live feed. Plain node:http;
// every route is a GET with a fixed path (or a fixed folder of static files).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface HttpServer {
  /** host:port actually bound (port 0 resolved). */
  address: string;
  close(): Promise<void>;
}

/** A browser holds an event stream open; closing waits this long for requests before dropping them. */
const closeGraceMs = 1000;

export async function startHttpServer(address: string, routes: Map<string, Route>, onError: (err: unknown) => void): Promise<HttpServer> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const route = routes.get(path);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
    } else if (!route) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    } else {
      Promise.resolve(route(req, res)).catch((err: unknown) => {
        onError(err);
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end();
      });
    }
  });
  const sep = address.lastIndexOf(":");
  const host = address.slice(0, sep);
  const port = Number(address.slice(sep + 1));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", onError);
  const bound = server.address() as AddressInfo;
  return {
    address: `${host}:${bound.port}`,
    close: () =>
      new Promise((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), closeGraceMs);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
