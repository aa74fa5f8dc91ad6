// Compact binary values for the raft records (no JSON on the hot path). All integers big-endian.
//   entry:         u32 CRC-32C of the rest | u64 term | u8 type | data
//   hard state:    u32 CRC-32C of the rest | u64 term | u64 vote | u64 commit
//   conf state:    u32 n | n × u64 voter | u32 m | m × u64 learner
//   applied:       u32 CRC-32C of the rest | u64 applied index | conf state
//   snapshot meta: u32 CRC-32C of the rest | u64 index | u64 term | conf state
import { type ConfState, type Entry, EntryType, type HardState, type SnapshotMeta } from "../raft/types";
import { crc32c } from "../broker/crc32c";
import { readUint64BE, writeUint64BE } from "./bytes";
import { StorageCorruption } from "./corruption";

/** Entries and the hard state carry a checksum: LevelDB does not verify its blocks on read (classic-level
 * sets no verify_checksums), so a flipped bit would otherwise reach raft as a valid-looking record. */
const CRC_BYTES = 4;
const ENTRY_HEADER_BYTES = CRC_BYTES + 9;
/** Where an encoded entry's data (the command) begins: a stored batch is read from here plus its offset. */
export const entryDataStart = ENTRY_HEADER_BYTES;
const HARD_STATE_BYTES = CRC_BYTES + 24;
const U64_BYTES = 8;
const U32_BYTES = 4;

export function encodeEntry(entry: Entry): Buffer {
  const value = Buffer.allocUnsafe(ENTRY_HEADER_BYTES + entry.data.byteLength);
  writeUint64BE(value, CRC_BYTES, entry.term);
  value[CRC_BYTES + 8] = entry.type;
  value.set(entry.data, ENTRY_HEADER_BYTES);
  return sealed(value);
}

/** The entry's data is a view into `value`, not a copy. Throws StorageCorruption on a bad checksum. */
export function decodeEntry(index: number, value: Buffer): Entry {
  if (value.length < ENTRY_HEADER_BYTES) throw corrupt(`entry ${index}`, value);
  checkSeal(value, `entry ${index}`);
  const type = value[CRC_BYTES + 8];
  if (type !== EntryType.Normal && type !== EntryType.ConfChange) throw corrupt(`entry ${index} type`, value);
  return { term: readUint64BE(value, CRC_BYTES), index, type, data: value.subarray(ENTRY_HEADER_BYTES) };
}

/** The term of an encoded entry, without decoding the rest (the checksum is checked). */
export function entryTermOf(value: Buffer): number {
  if (value.length < ENTRY_HEADER_BYTES) throw corrupt("entry", value);
  checkSeal(value, "entry");
  return readUint64BE(value, CRC_BYTES);
}

export function encodeHardState(hs: HardState): Buffer {
  const value = Buffer.allocUnsafe(HARD_STATE_BYTES);
  writeUint64BE(value, CRC_BYTES, hs.term);
  writeUint64BE(value, CRC_BYTES + 8, hs.vote);
  writeUint64BE(value, CRC_BYTES + 16, hs.commit);
  return sealed(value);
}

/** The hard state's size before raft records carried checksums. */
const UNCHECKED_HARD_STATE_BYTES = 24;

export function decodeHardState(value: Buffer): HardState {
  if (value.length === UNCHECKED_HARD_STATE_BYTES) {
    // Not damage: a directory from an older build. Moving it aside on every node at once would leave no
    // quorum to repair from, so the node stops and says why.
    throw new Error("the data directory was written by a build whose raft records carry no checksums; this build cannot read it");
  }
  if (value.length !== HARD_STATE_BYTES) throw corrupt("hard state", value);
  checkSeal(value, "hard state");
  return { term: readUint64BE(value, CRC_BYTES), vote: readUint64BE(value, CRC_BYTES + 8), commit: readUint64BE(value, CRC_BYTES + 16) };
}

/** Writes the checksum of everything after it into the value's first four bytes. */
function sealed(value: Buffer): Buffer {
  value.writeUInt32BE(crc32c(value, CRC_BYTES), 0);
  return value;
}

function checkSeal(value: Buffer, what: string): void {
  const stored = value.readUInt32BE(0);
  const actual = crc32c(value, CRC_BYTES);
  if (stored !== actual) throw new StorageCorruption(`corrupt ${what}: CRC-32C mismatch (stored ${stored}, computed ${actual})`);
}

export function encodeApplied(index: number, conf: ConfState): Buffer {
  return withConf([index], conf);
}

export function decodeApplied(value: Buffer): { applied: number; conf: ConfState } {
  const reader = new Reader(value, "applied state");
  const applied = reader.u64();
  const conf = reader.conf();
  reader.end();
  return { applied, conf };
}

export function encodeSnapshotMeta(meta: SnapshotMeta): Buffer {
  return withConf([meta.index, meta.term], meta.conf);
}

export function decodeSnapshotMeta(value: Buffer): SnapshotMeta {
  const reader = new Reader(value, "snapshot meta");
  const index = reader.u64();
  const term = reader.u64();
  const conf = reader.conf();
  reader.end();
  return { index, term, conf };
}

function withConf(head: number[], conf: ConfState): Buffer {
  const bytes = CRC_BYTES + (head.length + conf.voters.length + conf.learners.length) * U64_BYTES + 2 * U32_BYTES;
  const value = Buffer.allocUnsafe(bytes);
  let at = CRC_BYTES;
  for (const n of head) at = putU64(value, at, n);
  for (const ids of [conf.voters, conf.learners]) {
    value.writeUInt32BE(ids.length, at);
    at += U32_BYTES;
    for (const id of ids) at = putU64(value, at, id);
  }
  return sealed(value);
}

function putU64(buf: Buffer, at: number, n: number): number {
  writeUint64BE(buf, at, n);
  return at + U64_BYTES;
}

/** A bounds-checked cursor: a short or long value is corruption, reported with what it was. */
class Reader {
  private at = CRC_BYTES;

  constructor(
    private readonly value: Buffer,
    private readonly what: string,
  ) {
    if (value.length < CRC_BYTES) throw corrupt(what, value);
    checkSeal(value, what);
  }

  u64(): number {
    this.need(U64_BYTES);
    const n = readUint64BE(this.value, this.at);
    this.at += U64_BYTES;
    return n;
  }

  conf(): ConfState {
    return { voters: this.ids(), learners: this.ids() };
  }

  end(): void {
    if (this.at !== this.value.length) throw corrupt(this.what, this.value);
  }

  private ids(): number[] {
    this.need(U32_BYTES);
    const count = this.value.readUInt32BE(this.at);
    this.at += U32_BYTES;
    this.need(count * U64_BYTES);
    const ids: number[] = [];
    for (let i = 0; i < count; i++) ids.push(this.u64());
    return ids;
  }

  private need(bytes: number): void {
    if (this.at + bytes > this.value.length) throw corrupt(this.what, this.value);
  }
}

function corrupt(what: string, value: Buffer): StorageCorruption {
  return new StorageCorruption(`corrupt ${what} (${value.length} bytes): ${value.subarray(0, 32).toString("hex")}`);
}
