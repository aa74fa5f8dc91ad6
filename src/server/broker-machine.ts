// The broker's state machine as the replica loop sees it: apply decodes and applies one committed
// command and adds the resulting state writes to the loop's batch (the one that also carries the
// applied index), so a restart replays exactly the entries after what is on disk.
import { BrokerState, CommandResult, type LoadedBrokerState } from "../broker";
import type { Db } from "../storage/db";
import { addMutations, loadBrokerState } from "../storage/broker-store";
import type { EntryRefs } from "../storage/entry-refs";
import type { ReplicatedMachine, WriteBatch } from "./replica-ports";

export class BrokerMachine implements ReplicatedMachine<CommandResult> {
  private constructor(
    private readonly db: Db,
    private readonly refs: EntryRefs,
    private current: BrokerState,
  ) {}

  /** `refs` learns which raft entries hold stored batches; the log starts after `compactedThrough`. */
  static async load(db: Db, appliedIndex: number, refs: EntryRefs, compactedThrough: number): Promise<BrokerMachine> {
    return new BrokerMachine(db, refs, await restore(db, refs, appliedIndex, compactedThrough));
  }

  /** The applied state; replaced wholesale when a snapshot is installed, so never cache it. */
  get state(): BrokerState {
    return this.current;
  }

  apply(index: number, data: Uint8Array, batch: WriteBatch): CommandResult {
    const outcome = this.current.apply(index, data);
    addMutations(batch, outcome.mutations, this.refs);
    return outcome.result;
  }

  /** After a snapshot install: the state and the log's start are the snapshot's. */
  async reload(appliedIndex: number): Promise<void> {
    this.current = await restore(this.db, this.refs, appliedIndex, appliedIndex);
  }
}

/** The stored state, with `refs` told which raft entries hold its batches. */
async function restore(db: Db, refs: EntryRefs, appliedIndex: number, compactedThrough: number): Promise<BrokerState> {
  const loaded = await loadBrokerState(db);
  refs.reset(storedEntries(loaded), compactedThrough);
  return BrokerState.restore(loaded, appliedIndex);
}

function* storedEntries(loaded: LoadedBrokerState): Iterable<number> {
  for (const partition of loaded.partitions) for (const batch of partition.entries) yield batch.entryIndex;
}
