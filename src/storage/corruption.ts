// Stored bytes that fail their checks: a checksum that does not match, a value of the wrong shape, a
// hole in the raft log, or LevelDB reporting corruption of its own files. A node that meets one never
// serves or votes with that data; it gives up the directory and is repaired from its peers.

export class StorageCorruption extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StorageCorruption";
  }
}

/** LevelDB's own corruption (a bad block, manifest or table file), as classic-level reports it. */
function isLevelCorruption(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { code?: unknown; cause?: unknown; message?: unknown };
  if (e.code === "LEVEL_CORRUPTION") return true;
  if (typeof e.message === "string" && /\bCorruption:/.test(e.message)) return true;
  return e.cause !== undefined && isLevelCorruption(e.cause);
}

/** True when `err` says the stored data is damaged (ours or LevelDB's checks), not that I/O failed. */
export function isCorruption(err: unknown): boolean {
  return err instanceof StorageCorruption || isLevelCorruption(err);
}
