// Raft core types <-> peer.proto shapes. Inbound shapes come from another process, so they are
// checked: an unknown message or entry type makes the whole message invalid (it is dropped, never
// half-understood).
import {
  type ConfState,
  type Entry,
  EntryType,
  type Message,
  MessageType,
  type SnapshotMeta,
} from "../raft/types";
import type { WireConfState, WireEntry, WireMessage, WireSnapshotMeta } from "./wire-types";

const messageTypeNames: ReadonlyMap<MessageType, string> = new Map([
  [MessageType.PreVote, "MESSAGE_TYPE_PRE_VOTE"],
  [MessageType.PreVoteResp, "MESSAGE_TYPE_PRE_VOTE_RESP"],
  [MessageType.Vote, "MESSAGE_TYPE_VOTE"],
  [MessageType.VoteResp, "MESSAGE_TYPE_VOTE_RESP"],
  [MessageType.App, "MESSAGE_TYPE_APP"],
  [MessageType.AppResp, "MESSAGE_TYPE_APP_RESP"],
  [MessageType.Heartbeat, "MESSAGE_TYPE_HEARTBEAT"],
  [MessageType.HeartbeatResp, "MESSAGE_TYPE_HEARTBEAT_RESP"],
  [MessageType.Snap, "MESSAGE_TYPE_SNAP"],
  [MessageType.TimeoutNow, "MESSAGE_TYPE_TIMEOUT_NOW"],
  [MessageType.ReadIndex, "MESSAGE_TYPE_READ_INDEX"],
  [MessageType.ReadIndexResp, "MESSAGE_TYPE_READ_INDEX_RESP"],
]);
const messageTypesByName: ReadonlyMap<string, MessageType> = invert(messageTypeNames);

const entryTypeNames: ReadonlyMap<EntryType, string> = new Map([
  [EntryType.Normal, "ENTRY_TYPE_NORMAL"],
  [EntryType.ConfChange, "ENTRY_TYPE_CONF_CHANGE"],
]);
const entryTypesByName: ReadonlyMap<string, EntryType> = invert(entryTypeNames);

export function messageToWire(m: Message): WireMessage {
  const wire: WireMessage = {
    type: nameOf(messageTypeNames, m.type),
    from: m.from,
    to: m.to,
    term: m.term,
    logTerm: m.logTerm,
    index: m.index,
    entries: m.entries.map(entryToWire),
    commit: m.commit,
    reject: m.reject,
    rejectHint: m.rejectHint,
    rejectHintTerm: m.rejectHintTerm,
    snapshot: m.snapshot === undefined ? null : metaToWire(m.snapshot),
  };
  if (m.context !== undefined) wire.context = m.context;
  return wire;
}

/** The message, or undefined when it carries a type this build does not know. */
export function messageFromWire(w: WireMessage): Message | undefined {
  const type = messageTypesByName.get(w.type);
  if (type === undefined) return undefined;
  const entries: Entry[] = [];
  for (const e of w.entries) {
    const entry = entryFromWire(e);
    if (entry === undefined) return undefined;
    entries.push(entry);
  }
  const m: Message = {
    type,
    from: w.from,
    to: w.to,
    term: w.term,
    logTerm: w.logTerm,
    index: w.index,
    entries,
    commit: w.commit,
    reject: w.reject,
    rejectHint: w.rejectHint,
    rejectHintTerm: w.rejectHintTerm,
  };
  if (w.snapshot !== null) m.snapshot = metaFromWire(w.snapshot);
  if (w.context !== undefined) m.context = w.context;
  return m;
}

function entryToWire(e: Entry): WireEntry {
  return { term: e.term, index: e.index, type: nameOf(entryTypeNames, e.type), data: e.data };
}

function entryFromWire(e: WireEntry): Entry | undefined {
  const type = entryTypesByName.get(e.type);
  return type === undefined ? undefined : { term: e.term, index: e.index, type, data: e.data };
}

function metaToWire(s: SnapshotMeta): WireSnapshotMeta {
  return { index: s.index, term: s.term, conf: { voters: s.conf.voters, learners: s.conf.learners } };
}

function metaFromWire(s: WireSnapshotMeta): SnapshotMeta {
  return { index: s.index, term: s.term, conf: confFromWire(s.conf) };
}

function confFromWire(c: WireConfState | null): ConfState {
  return { voters: c === null ? [] : [...c.voters], learners: c === null ? [] : [...c.learners] };
}

function nameOf<T>(names: ReadonlyMap<T, string>, value: T): string {
  const name = names.get(value);
  if (name === undefined) throw new Error(`no wire name for ${String(value)}`);
  return name;
}

function invert<T>(names: ReadonlyMap<T, string>): ReadonlyMap<string, T> {
  return new Map([...names].map(([value, name]) => [name, value]));
}
