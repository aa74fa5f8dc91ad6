// grpc.health.v1 on the client port. A node is SERVING only while it knows a leader and has applied
// everything up to the commit index it last heard of: then its reads are current and its writes have
// somewhere to go. The same status is given for "" (the whole node) and for each public service.
import { HealthImplementation, type ServingStatus } from "grpc-health-check";
import type { Server } from "@grpc/grpc-js";
import { publicServiceNames } from "./public-proto";
import type { Replica } from "./replica";

export const healthServiceNames = ["", ...publicServiceNames];

/** A node whose stored data is damaged, or still being repaired, is NOT_SERVING whatever raft says. */
export function servingStatus(replica: Replica<unknown>, damaged = false): ServingStatus {
  const caughtUp = replica.appliedIndex >= replica.raftNode.status().commit;
  return replica.leaderId !== 0 && caughtUp && !damaged ? "SERVING" : "NOT_SERVING";
}

export class NodeHealth {
  private readonly health = new HealthImplementation(Object.fromEntries(healthServiceNames.map((s) => [s, "NOT_SERVING"])));
  private current: ServingStatus = "NOT_SERVING";
  private readonly refresh = (): void => this.update(servingStatus(this.replica, this.damaged()));

  constructor(
    private readonly replica: Replica<unknown>,
    private readonly damaged: () => boolean = () => false,
  ) {
    replica.on("role", this.refresh);
    replica.on("applied", this.refresh);
    // A follower learns a higher commit index without applying in the same step; ticks catch that.
    replica.on("term", this.refresh);
  }

  addTo(server: Server): void {
    this.health.addToServer(server);
  }

  /** Called on the node's ticks too, so a commit index heard between applies is noticed. */
  check(): void {
    this.refresh();
  }

  /** Shutting down: NOT_SERVING for good. */
  stop(): void {
    this.replica.off("role", this.refresh);
    this.replica.off("applied", this.refresh);
    this.replica.off("term", this.refresh);
    this.update("NOT_SERVING");
  }

  private update(status: ServingStatus): void {
    if (status === this.current) return;
    this.current = status;
    for (const name of healthServiceNames) this.health.setStatus(name, status);
  }
}
