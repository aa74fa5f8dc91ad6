// The routes of a node's HTTP port: / and /dashboard/* (the dashboard's static files, shipped in the
// package's dashboard/ folder), /vendor/* (uPlot from its npm package), /api/events and /api/snapshot
// (the live feed) and /metrics.
import { readdirSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { Registry } from "prom-client";
import type { LiveFeed } from "../dashboard/live-feed";
import type { Route } from "./http-server";
import { metricsRoute } from "./metrics-route";
import { fileRoute } from "./static-route";

/** The package's dashboard/ folder, from dist/src/server/http. */
export const dashboardDir = join(__dirname, "..", "..", "..", "..", "dashboard");

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : [],
  );
}

export function nodeRoutes(registry: Registry, feed: LiveFeed): Map<string, Route> {
  const routes = new Map<string, Route>();
  routes.set("/metrics", metricsRoute(registry));
  for (const file of filesUnder(dashboardDir)) {
    routes.set(`/dashboard/${relative(dashboardDir, file).split(sep).join("/")}`, fileRoute(file));
  }
  const index = routes.get("/dashboard/index.html");
  if (index) {
    routes.set("/", index);
    routes.set("/dashboard", index);
    routes.set("/dashboard/", index);
  }
  routes.set("/vendor/uPlot.iife.min.js", fileRoute(require.resolve("uplot/dist/uPlot.iife.min.js")));
  routes.set("/vendor/uPlot.min.css", fileRoute(require.resolve("uplot/dist/uPlot.min.css")));
  routes.set("/api/events", feed.eventsRoute);
  routes.set("/api/snapshot", feed.snapshotRoute);
  return routes;
}
