// Checks of LevelDB's own files that LevelDB, as classic-level opens it, does not make itself.
//
// LevelDB replays its write-ahead log (the NNNNNN.log files) when it opens, and without paranoid checks
// (which classic-level cannot turn on) it silently skips a record that fails its checksum — together
// with the rest of that 32 KiB block. A raft write skipped that way is a vote or an entry this node
// acknowledged and then forgot. So the node checks the log files itself before LevelDB opens them.
//
// Format (LevelDB's doc/log_format.md): 32 KiB blocks of records, each a 7-byte header — u32 masked
// CRC-32C of type and payload (little-endian), u16 payload length (little-endian), u8 type — then the
// payload. Fewer than 7 bytes left in a block are zero padding.
//
// A table file (NNNNNN.ldb) cut short loses its footer, and LevelDB then fails reads from it with an
// I/O error ("Invalid argument") rather than corruption; its footer's magic number tells the two apart.
import { open, readFile, readdir } from "node:fs/promises";
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

/** Every sorted table ends in a 48-byte footer whose last 8 bytes are this number (little-endian). */
const tableMagic = Buffer.from([0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb]);
const footerBytes = 48;

async function checkTableFooter(path: string, name: string): Promise<void> {
  const file = await open(path, "r");
  try {
    const { size } = await file.stat();
    const tail = Buffer.alloc(tableMagic.length);
    if (size >= footerBytes) await file.read(tail, 0, tail.length, size - tail.length);
    if (size < footerBytes || !tail.equals(tableMagic)) {
      throw new StorageCorruption(`LevelDB table ${name} (${size} bytes) has no footer: the file was cut short or overwritten`);
    }
  } finally {
    await file.close();
  }
}

/** Checks every LevelDB log file and table footer in `dir`; a missing directory has none. */
export async function checkLevelDbFiles(dir: string): Promise<void> {
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
  for (const name of names.filter((n) => /^\d+\.ldb$/.test(n)).sort()) {
    await checkTableFooter(join(dir, name), name);
  }
}
