// Disk faults of the simulated disk, planted like the driver bugs of plants.ts. A flipped bit in a stored
// entry, read back the way a disk without checks would return it, must be caught by a checker; read back
// with the CRC-32C the production storage keeps on every raft record, it must stop the node at its
// restart, before it serves or votes from the damage. A log cut short must be caught by the durability
// checker, whose rule (a log ending before the commit index it stored) is the one the production store
// refuses to load. (A torn write is a write that
// never completed its sync: the simulated disk already loses it on a crash, and LevelDB writes a batch
// atomically, so no torn batch is ever read back.)
import type { Entry, RaftState } from "../../../src/raft";
import { decodeEntry, encodeEntry } from "../../../src/storage/raft-codec";
import type { PlantedBug } from "./plants";
import { SimStore } from "./store";

/** Which stored entry a fault hits: the newest, the one most likely to be read again. */
function newestIndex(store: SimStore): number | undefined {
  return store.entries.length > 0 ? store.lastIndex() : undefined;
}

function flipBit(data: Uint8Array): Uint8Array {
  const flipped = Uint8Array.from(data.length > 0 ? data : [0]);
  flipped[flipped.length >> 1] ^= 0x08;
  return flipped;
}

/** Every crash flips a bit in the newest stored entry's data; restore hands it back unchecked. */
class FlippingStore extends SimStore {
  override crash(): void {
    super.crash();
    const index = newestIndex(this);
    if (index === undefined) return;
    const at = index - this.snapshot.index - 1;
    const entry = this.entries[at];
    this.entries[at] = { ...entry, data: flipBit(entry.data) };
  }
}

/**
 * The same fault on a disk that stores entries as the production codec encodes them (with their CRC)
 * and decodes them on restart: the bit is flipped in the stored bytes, and the checksum finds it.
 */
class ChecksummedFlippingStore extends SimStore {
  private damaged: { index: number; bytes: Buffer } | undefined;

  override crash(): void {
    super.crash();
    const index = newestIndex(this);
    if (index === undefined) return;
    const bytes = encodeEntry(this.entryAt(index));
    bytes[bytes.length >> 1] ^= 0x08;
    this.damaged = { index, bytes };
  }

  override restore(): RaftState {
    const state = super.restore();
    const damaged = this.damaged;
    if (damaged === undefined) return state;
    const entries: Entry[] = state.entries.map((e) => (e.index === damaged.index ? decodeEntry(e.index, damaged.bytes) : e));
    return { ...state, entries };
  }
}

/** Every crash cuts the log short by its newest entries, synced or not (a truncated file). */
class TruncatingStore extends SimStore {
  private readonly cutEntries = 3;

  override crash(): void {
    super.crash();
    this.entries.length = Math.max(0, this.entries.length - this.cutEntries);
  }
}

export const flipsBitInStoredEntry: PlantedBug = {
  // The restarted node commits the damaged entry as soon as the leader's commit index covers it (apply does
  // not wait for the node's own writes to land), before a landed write lets log-matching compare copies.
  caughtBy: "state-machine-safety",
  plant: { name: "a disk that flips a bit in a stored entry, read back unchecked", createStore: (conf) => new FlippingStore(conf) },
};

export const flipsBitInChecksummedEntry: PlantedBug = {
  caughtBy: "exception",
  plant: { name: "a disk that flips a bit in a stored entry, read back with its CRC-32C", createStore: (conf) => new ChecksummedFlippingStore(conf) },
};

export const truncatesLog: PlantedBug = {
  caughtBy: "committed-durable",
  plant: { name: "a disk that cuts the log short, read back unchecked", createStore: (conf) => new TruncatingStore(conf) },
};
