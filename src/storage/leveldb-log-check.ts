// LevelDB replays its write-ahead log (the NNNNNN.log files) when it opens, and without paranoid checks
// (which classic-level cannot turn on) it silently skips a record that fails its checksum — together
// with the rest of that 32 KiB block. A raft write skipped that way is a vote or an entry this node
// acknowledged and then forgot. So the node checks the log files itself before LevelDB opens them.
//
// Format (LevelDB's doc/log_format.md): 32 KiB blocks of records, each a 7-byte header — u32 masked
// CRC-32C of type and payload (little-endian), u16 payload length (little-endian), u8 type — then the
// payload. Fewer than 7 bytes left in a block are zero padding.
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { crc32c } from "../broker/crc32c";
import { StorageCorruption } from "./corruption";

const blockBytes = 32768;
const headerBytes = 7;
const maskDelta = 0xa282ead8;
const lastRecordType = 4;

function unmask(masked: number): number {
  const rot = (masked - maskDelta) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}

/**
 * Throws StorageCorruption at the first damaged record. A record cut short by the end of the file is
 * accepted, as LevelDB does: that is a write torn by a crash before its sync, never acknowledged.
 */
export function checkLogFile(bytes: Buffer, name: string): void {
  let at = 0;
  while (at < bytes.length) {
    const leftInBlock = blockBytes - (at % blockBytes);
    if (leftInBlock < headerBytes) {
      at += leftInBlock;
      continue;
    }
    if (at + headerBytes > bytes.length) return;
    const length = bytes.readUInt16LE(at + 4);
    const type = bytes[at + 6];
    if (type === 0 && length === 0) {
      // Preallocated space that was never written: the rest of the block is zeros.
      at += leftInBlock;
      continue;
    }
    const where = `${name} at byte ${at}`;
    if (type < 1 || type > lastRecordType || headerBytes + length > leftInBlock) {
      throw new StorageCorruption(`LevelDB log ${where}: bad record header (type ${type}, length ${length})`);
    }
    if (at + headerBytes + length > bytes.length) return;
    const stored = unmask(bytes.readUInt32LE(at));
    const actual = crc32c(bytes, at + 6, at + headerBytes + length);
    if (stored !== actual) throw new StorageCorruption(`LevelDB log ${where}: record checksum mismatch`);
    at += headerBytes + length;
  }
}

/** Checks every LevelDB log file in `dir`; a missing directory has none. */
export async function checkLogFiles(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  for (const name of names.filter((n) => /^\d+\.log$/.test(n)).sort()) {
    checkLogFile(await readFile(join(dir, name)), name);
  }
}
