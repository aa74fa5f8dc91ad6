// What the replica has written for a command it applied: the raft entry (persisted before it was
// applied, and where the batches it carries stay stored) and the state changes, in one batch.
import type { BrokerMutation } from "../../src/broker/mutations";
import { EntryType } from "../../src/raft/types";
import { addMutations } from "../../src/storage/broker-store";
import type { BatchOps } from "../../src/storage/db";
import type { EntryRefs } from "../../src/storage/entry-refs";
import { entryKey } from "../../src/storage/keys";
import { encodeEntry } from "../../src/storage/raft-codec";

export function addAppliedEntry(batch: BatchOps, index: number, data: Uint8Array, mutations: readonly BrokerMutation[], refs: EntryRefs): void {
  batch.put(entryKey(index), encodeEntry({ index, term: 1, type: EntryType.Normal, data }));
  addMutations(batch, mutations, refs);
}
