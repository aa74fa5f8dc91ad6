// The node's HTTP port: /metrics for Prometheus and the dashboard with its live feed. Plain node:http;
// every route is a GET with a fixed path (or a fixed folder of static files).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { type HttpSecurity, admitHttp, readIdentity } from "./http-auth";

export type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface HttpServer {
  /** host:port actually bound (port 0 resolved). */
  address: string;
  close(): Promise<void>;
}

/** A browser holds an event stream open; closing waits this long for requests before dropping them. */
const closeGraceMs = 1000;

export async function startHttpServer(
  address: string,
  routes: Map<string, Route>,
  onError: (err: unknown) => void,
  security?: HttpSecurity,
): Promise<HttpServer> {
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const route = routes.get(path);
    if (security && !admitHttp(security, req, res)) return;
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
  };
  let identity = security ? await readIdentity(security) : undefined;
  const server: Server = security ? createHttpsServer({ ...identity }, handle) : createServer(handle);
  // HTTPS takes replaced certificate files on its next read, like the gRPC ports.
  const reload =
    security &&
    setInterval(() => {
      readIdentity(security).then((next) => {
        if (identity && next.cert?.toString() === identity.cert?.toString() && next.key?.toString() === identity.key?.toString()) return;
        try {
          (server as unknown as { setSecureContext(o: object): void }).setSecureContext(next);
          identity = next;
        } catch (err) {
          onError(err);
        }
      }, onError);
    }, security.reloadMs);
  reload?.unref();
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
        if (reload) clearInterval(reload);
        const force = setTimeout(() => server.closeAllConnections(), closeGraceMs);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
