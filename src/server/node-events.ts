// Small status events a node sends to a parent process over the IPC channel (the dev cluster and the
// test harness listen), so nobody has to parse logs to know a node is up or who leads.
export type NodeEvent =
  | { kind: "serving"; clientAddress: string; peerAddress: string; httpAddress?: string; kafkaAddress?: string }
  | { kind: "leader"; term: number };

export function parseNodeEvent(raw: unknown): NodeEvent | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const kind = (raw as { kind?: unknown }).kind;
  if (kind === "serving" || kind === "leader") return raw as NodeEvent;
  return undefined;
}

export function emitNodeEvent(event: NodeEvent): void {
  if (process.send) process.send(event);
}
