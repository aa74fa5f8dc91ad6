// The HTTP port with security on: HTTPS with the node's certificate (re-read like the gRPC ports'), and
// every request needs a token, sent as `Authorization: Bearer TOKEN` (Prometheus' bearer_token) or, for
// a browser, once as `?token=TOKEN`, which is then kept in an HttpOnly cookie. Accepted: the HTTP token
// file, the superuser's token, or a token whose principal may describe the cluster.
import * as grpc from "@grpc/grpc-js";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { SecureContextOptions } from "node:tls";
import type { AccessControl } from "../security/access-control";
import { rpcAccess } from "../security/rpc-access";
import { RpcError } from "../rpc-errors";

const cookieName = "raftline_token";

export interface HttpSecurity {
  /** The certificate and key files, read now and again every `reloadMs`. */
  certFile: string;
  keyFile: string;
  reloadMs: number;
  access: AccessControl;
  /** The token of the HTTP token file, if configured. */
  httpToken?: string;
}

export async function readIdentity(security: HttpSecurity): Promise<SecureContextOptions> {
  return { cert: await readFile(security.certFile), key: await readFile(security.keyFile) };
}

function tokenOf(req: IncomingMessage, url: URL): string | undefined {
  const header = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? "");
  if (header) return header[1];
  const query = url.searchParams.get("token");
  if (query) return query;
  const cookie = (req.headers.cookie ?? "").split(/;\s*/).find((c) => c.startsWith(`${cookieName}=`));
  return cookie ? decodeURIComponent(cookie.slice(cookieName.length + 1)) : undefined;
}

function allowed(security: HttpSecurity, token: string): boolean {
  if (security.httpToken !== undefined && token === security.httpToken) return true;
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${token}`);
  const principal = security.access.authenticate({ metadata, getAuthContext: () => ({}) });
  if (principal instanceof RpcError) return false;
  return security.access.authorize(principal, rpcAccess["/raftline.v1.Admin/DescribeCluster"], {}) === undefined;
}

/** True when the request may go on; otherwise it has been answered (401, or a redirect that sets the cookie). */
export function admitHttp(security: HttpSecurity, req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? "/", "https://localhost");
  const token = tokenOf(req, url);
  if (token === undefined || !allowed(security, token)) {
    res.writeHead(401, { "content-type": "text/plain", "www-authenticate": 'Bearer realm="raftline"' }).end("a valid token is required\n");
    return false;
  }
  if (url.searchParams.has("token")) {
    url.searchParams.delete("token");
    res
      .writeHead(303, {
        location: url.pathname + url.search,
        "set-cookie": `${cookieName}=${encodeURIComponent(token)}; HttpOnly; Secure; SameSite=Strict; Path=/`,
      })
      .end();
    return false;
  }
  return true;
}
