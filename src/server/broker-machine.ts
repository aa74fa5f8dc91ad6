// The broker's state machine as the replica loop sees it: apply decodes and applies one committed
// command and adds the resulting state writes to the loop's batch (the one that also carries the
// applied index), so a restart replays exactly the entries after what is on disk.
import { BrokerState, CommandResult } from "../broker";
import type { Db } from "../storage/db";
import { addMutations, loadBrokerState } from "../storage/broker-store";
import type { ReplicatedMachine, WriteBatch } from "./replica-ports";

export class BrokerMachine implements ReplicatedMachine<CommandResult> {
  private constructor(
    private readonly db: Db,
    private current: BrokerState,
  ) {}

  static async load(db: Db, appliedIndex: number): Promise<BrokerMachine> {
    return new BrokerMachine(db, BrokerState.restore(await loadBrokerState(db), appliedIndex));
  }

  /** The applied state; replaced wholesale when a snapshot is installed, so never cache it. */
  get state(): BrokerState {
    return this.current;
  }

  apply(index: number, data: Uint8Array, batch: WriteBatch): CommandResult {
    const outcome = this.current.apply(index, data);
    addMutations(batch, outcome.mutations);
    return outcome.result;
  }

  async reload(appliedIndex: number): Promise<void> {
    this.current = BrokerState.restore(await loadBrokerState(this.db), appliedIndex);
  }
}
