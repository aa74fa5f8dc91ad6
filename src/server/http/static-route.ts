// Static files served from the package itself: the dashboard's folder and uPlot from its npm package.
// Each file is read once, at first request, and kept.
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import type { Route } from "./http-server";

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
};

export function fileRoute(path: string): Route {
  let body: Promise<Buffer> | undefined;
  return async (_req, res) => {
    body ??= readFile(path);
    const bytes = await body.catch((err: unknown) => {
      body = undefined;
      throw err;
    });
    res.writeHead(200, { "content-type": contentTypes[extname(path)] ?? "application/octet-stream", "cache-control": "no-cache" }).end(bytes);
  };
}
