// A compact fingerprint of an entry, so that the history can compare entries seen on different nodes
// without keeping their bytes. Two entries are "the same entry" exactly when their keys are equal.
import { ConfChangeType, decodeConfChange, Entry, EntryType } from "../../../src/raft";

export type EntryKey = string;

export function entryKey(entry: Entry): EntryKey {
  if (entry.type === EntryType.ConfChange) {
    const cc = decodeConfChange(entry.data);
    return `${entry.term}:c:${ConfChangeType[cc.type]}(${cc.nodeId})`;
  }
  return `${entry.term}:n:${bytesToLatin1(entry.data)}`;
}

export function latin1ToBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

export function bytesToLatin1(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
  return text;
}
