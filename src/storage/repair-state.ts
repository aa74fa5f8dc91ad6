// A node's own record of damage to its data directory. Node-local, never part of a snapshot: keys under
// the raft-only prefix 0x08.
//
//   0x08 0x01    damaged: what was found (UTF-8); the next start moves the directory aside
//   0x08 0x02    replacement pending: a fresh directory whose node must still ask to be replaced
import type { Db } from "./db";

export const PREFIX_REPAIR = 0x08;
const DAMAGED_KEY = Buffer.from([PREFIX_REPAIR, 0x01]);
const REPLACEMENT_PENDING_KEY = Buffer.from([PREFIX_REPAIR, 0x02]);

export async function loadDamage(db: Db): Promise<string | undefined> {
  return (await db.get(DAMAGED_KEY))?.toString("utf8");
}

/** Synced: the finding must survive the restart that acts on it. */
export async function saveDamage(db: Db, finding: string): Promise<void> {
  await db.put(DAMAGED_KEY, Buffer.from(finding, "utf8"), { sync: true });
}

export async function replacementPending(db: Db): Promise<boolean> {
  return (await db.get(REPLACEMENT_PENDING_KEY)) !== undefined;
}

export async function setReplacementPending(db: Db, pending: boolean): Promise<void> {
  if (pending) await db.put(REPLACEMENT_PENDING_KEY, Buffer.from([1]), { sync: true });
  else await db.del(REPLACEMENT_PENDING_KEY, { sync: true });
}
