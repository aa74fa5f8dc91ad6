// The key layout of the node's LevelDB. One prefix byte per kind, then big-endian ids, so that
// LevelDB's byte order is the log's order and each kind is one contiguous range.
//
//   0x01                 layout marker (hard-state-place.ts); the raft hard state until layout 3
//   0x02 | u64 index     one raft log entry
//   0x03                 applied index + conf state, written in the same batch as the state it covers
//   0x04                 snapshot meta: where the stored log begins (index, term, conf)
//   0x05                 snapshot-install marker (present only while an install is in progress)
//   0x06 | state key     snapshot-install staging copy of a state key
//   0x07                 node identity and peer incarnations (node-local; see cluster-identity.ts)
//   0x08                 node-local repair state (repair-state.ts)
//   0x09                 raft hard state (term, vote, commit)
//   0x0A..0x0F           reserved for raft storage
//   0x10..0x1F           the broker's replicated state; its sub-layout belongs to broker-store.ts
//
// Every key rewritten on most writes (hard state, applied index, broker state) sorts above the entries, whose
// indexes only grow: a LevelDB table then spans the newest entries and those keys, never the older log, so
// compaction does not keep rewriting the whole log (see hard-state-place.ts).
//
// "State" is the applied key 0x03 plus the whole broker range 0x10..0x1F. A snapshot carries the state and
// the compacted entries that still hold stored record batches (broker-store.ts).
import { readUint64BE, writeUint64BE } from "./bytes";

export const PREFIX_LAYOUT_MARKER = 0x01;
export const PREFIX_ENTRY = 0x02;
export const PREFIX_APPLIED = 0x03;
export const PREFIX_SNAPSHOT_META = 0x04;
export const PREFIX_IMPORT_MARKER = 0x05;
export const PREFIX_IMPORT_STAGING = 0x06;
export const PREFIX_HARD_STATE = 0x09;
export const PREFIX_BROKER_MIN = 0x10;
export const PREFIX_BROKER_MAX = 0x1f;

export const LAYOUT_MARKER_KEY = Buffer.from([PREFIX_LAYOUT_MARKER]);
export const HARD_STATE_KEY = Buffer.from([PREFIX_HARD_STATE]);
export const APPLIED_KEY = Buffer.from([PREFIX_APPLIED]);
export const SNAPSHOT_META_KEY = Buffer.from([PREFIX_SNAPSHOT_META]);
export const IMPORT_MARKER_KEY = Buffer.from([PREFIX_IMPORT_MARKER]);

/** A half-open key range [gte, lt), in the shape LevelDB iterators and clear() take. */
export interface KeyRange {
  gte: Buffer;
  lt: Buffer;
}

function prefixRange(first: number, last: number): KeyRange {
  return { gte: Buffer.from([first]), lt: Buffer.from([last + 1]) };
}

export const ENTRY_RANGE: KeyRange = prefixRange(PREFIX_ENTRY, PREFIX_ENTRY);
export const BROKER_RANGE: KeyRange = prefixRange(PREFIX_BROKER_MIN, PREFIX_BROKER_MAX);
export const STAGING_RANGE: KeyRange = prefixRange(PREFIX_IMPORT_STAGING, PREFIX_IMPORT_STAGING);
/** Spans every state key, and the raft-only prefixes between them (0x04..0x0F), which readers skip. */
export const STATE_SPAN: KeyRange = { gte: APPLIED_KEY, lt: BROKER_RANGE.lt };

const ENTRY_KEY_BYTES = 9;

export function entryKey(index: number): Buffer {
  const key = Buffer.allocUnsafe(ENTRY_KEY_BYTES);
  key[0] = PREFIX_ENTRY;
  writeUint64BE(key, 1, index);
  return key;
}

export function entryIndexOf(key: Buffer): number {
  if (key.length !== ENTRY_KEY_BYTES || key[0] !== PREFIX_ENTRY) {
    throw new Error(`not a raft entry key: ${key.toString("hex")}`);
  }
  return readUint64BE(key, 1);
}

export function isEntryKey(key: Uint8Array): boolean {
  return key.length === ENTRY_KEY_BYTES && key[0] === PREFIX_ENTRY;
}

/** True for the state keys a snapshot carries (it also carries entries that hold stored batches). */
export function isStateKey(key: Uint8Array): boolean {
  if (key.length === 1 && key[0] === PREFIX_APPLIED) return true;
  return key.length >= 1 && key[0] >= PREFIX_BROKER_MIN && key[0] <= PREFIX_BROKER_MAX;
}

export function stagingKey(stateKey: Uint8Array): Buffer {
  const key = Buffer.allocUnsafe(stateKey.length + 1);
  key[0] = PREFIX_IMPORT_STAGING;
  key.set(stateKey, 1);
  return key;
}

export function stateKeyOfStaging(key: Buffer): Buffer {
  return key.subarray(1);
}
