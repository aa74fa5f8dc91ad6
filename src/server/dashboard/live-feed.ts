// Server-sent events for the dashboard: while at least one page listens, the node builds one snapshot
// per interval and sends it to every listener. Listeners are bounded; a page past the bound is refused
// and its EventSource retries. Any origin may read the feed: a page loaded from one node switches to
// another's when its own node stops answering (the feed is read-only cluster state).
import type { Route } from "../http/http-server";
import type { ServerResponse } from "node:http";
import { DashboardSources, dashboardSnapshot } from "./sections";

export const feedIntervalMs = 1000;
const anyOrigin = { "access-control-allow-origin": "*" };
export const feedListenersMax = 32;
/** Tells a browser's EventSource how soon to reconnect after the stream breaks. */
const retryMs = 1000;

export class LiveFeed {
  private readonly listeners = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private building = false;

  constructor(
    private readonly sources: DashboardSources,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** GET /api/events */
  readonly eventsRoute: Route = (req, res) => {
    if (this.listeners.size >= feedListenersMax) {
      res.writeHead(503, { "content-type": "text/plain", "retry-after": "5" }).end("too many dashboard listeners\n");
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive", ...anyOrigin });
    res.write(`retry: ${retryMs}\n\n`);
    this.listeners.add(res);
    req.on("close", () => {
      this.listeners.delete(res);
      if (this.listeners.size === 0) this.stopTimer();
    });
    this.timer ??= setInterval(() => this.broadcast(), feedIntervalMs);
    this.broadcast();
  };

  /** GET /api/snapshot: one snapshot, for scripts and curl. */
  readonly snapshotRoute: Route = async (_req, res) => {
    const snapshot = await dashboardSnapshot(this.sources);
    res.writeHead(200, { "content-type": "application/json", ...anyOrigin }).end(JSON.stringify(snapshot));
  };

  close(): void {
    this.stopTimer();
    for (const res of this.listeners) res.end();
    this.listeners.clear();
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  // A snapshot may wait on a peer that does not answer; the next tick is skipped rather than piled up.
  private broadcast(): void {
    if (this.building) return;
    this.building = true;
    dashboardSnapshot(this.sources)
      .then((snapshot) => {
        const frame = `data: ${JSON.stringify(snapshot)}\n\n`;
        for (const res of this.listeners) res.write(frame);
      }, this.onError)
      .finally(() => {
        this.building = false;
      });
  }
}
