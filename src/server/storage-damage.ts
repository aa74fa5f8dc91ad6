// Damage found while running (a stored record batch failing its checksum): the node stops serving reads
// from its storage at once, records the finding durably, says so in its log, health and metrics, and
// asks to be restarted, so that the next start moves the directory aside and repairs it from the peers.
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { Db } from "../storage/db";
import { saveDamage } from "../storage/repair-state";
import { RpcError } from "./rpc-errors";

export class StorageDamage {
  private foundText: string | undefined;
  /** Set while this node runs on a fresh directory and has not yet been replaced by the cluster. */
  private repairText: string | undefined;
  private readonly listeners: Array<(finding: string) => void> = [];

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {}

  /** What was found, once something was. */
  get finding(): string | undefined {
    return this.foundText;
  }

  /** What status shows: the damage found, or the repair under way; empty when neither. */
  get status(): string {
    return this.foundText ?? this.repairText ?? "";
  }

  /** True while damaged or not yet repaired: the node serves no reads from storage. */
  get unhealthy(): boolean {
    return this.status !== "";
  }

  /** The node started on a fresh directory after damage; reads are refused until `repaired()`. */
  repairing(note: string): void {
    this.repairText = note;
  }

  repaired(): void {
    this.repairText = undefined;
  }

  /** Called once, when damage is first found. */
  onFound(listener: (finding: string) => void): void {
    this.listeners.push(listener);
  }

  /** Records damage; the first report wins and is written before anyone is told. */
  async report(finding: string): Promise<void> {
    if (this.foundText !== undefined) return;
    this.foundText = finding;
    this.logger.error({ finding }, "stored data is damaged: refusing to serve it; restarting to repair from the peers");
    try {
      await saveDamage(this.db, finding);
    } catch (err) {
      this.logger.error({ err }, "recording the damage failed; the restart checks the directory again");
    }
    for (const listener of this.listeners) listener(finding);
  }

  /** Throws the refusal a damaged (or not yet repaired) node answers reads with. */
  check(leaderId: number): void {
    if (!this.unhealthy) return;
    throw new RpcError(
      grpc.status.UNAVAILABLE,
      "ERROR_REASON_NODE_DAMAGED",
      `this node found its stored data damaged and is repairing itself; read from another node (${this.status})`,
      leaderId,
    );
  }
}
