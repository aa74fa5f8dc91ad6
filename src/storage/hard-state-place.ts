// Where the raft hard state is stored, and the move from where earlier builds stored it.
//
// It was key 0x01, below the log entries (0x02). Nearly every write rewrites it, so every LevelDB table
// held it, and a table spanning 0x01 up to the broker's keys overlapped every older entry: compactions
// merged such a table with the whole of the next level's log, again and again, and under sustained
// writes that work grew with the data stored. Above the entries (0x09) a table spans only the newest
// entries and the keys above them.
//
// Key 0x01 now holds a marker of 24 bytes. A build that reads the hard state at 0x01 takes a 24-byte
// value for a directory it cannot read and refuses to start, rather than missing the hard state and
// starting as a node that never voted.
import type { Db } from "./db";
import { HARD_STATE_KEY, LAYOUT_MARKER_KEY } from "./keys";
import { decodeHardState } from "./raft-codec";

export const layoutMarker = Buffer.from("raftline storage layout3", "ascii");

/** Moves a hard state stored at 0x01 to its key and marks the directory, in one synced batch. */
export async function placeHardState(db: Db): Promise<void> {
  const atMarker = await db.get(LAYOUT_MARKER_KEY);
  if (atMarker !== undefined && atMarker.equals(layoutMarker)) return;
  const batch = db.batch();
  if (atMarker !== undefined) {
    // Throws, naming the problem, on anything but a sealed hard state.
    decodeHardState(atMarker);
    batch.put(HARD_STATE_KEY, atMarker);
  }
  await batch.put(LAYOUT_MARKER_KEY, layoutMarker).write({ sync: true });
}
