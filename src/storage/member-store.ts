// The member records' part of the broker range (see broker-store.ts for the rest):
//
//   0x1E | u64 member id                     member record: u8 format version, then the record
//                                            (incarnation, stay-learner flag, addresses) as UTF-8 JSON
//
// Inside the broker range, so snapshots carry the records: a node that restores one knows every member's
// admitted incarnation without having met it.
import type { MemberRecord } from "../broker";
import { readUint64BE, writeUint64BE } from "./bytes";
import type { Db } from "./db";

export const PREFIX_MEMBER = 0x1e;

const memberFormatVersion = 1;
const memberKeyBytes = 1 + 8;
const iteratorOptions = { keyEncoding: "buffer", valueEncoding: "buffer" } as const;

export function memberKey(id: number): Buffer {
  const key = Buffer.allocUnsafe(memberKeyBytes);
  key[0] = PREFIX_MEMBER;
  writeUint64BE(key, 1, id);
  return key;
}

export function encodeMember(m: MemberRecord): Buffer {
  const fields = { incarnation: m.incarnation, stayLearner: m.stayLearner, clientAddress: m.clientAddress, peerAddress: m.peerAddress };
  return Buffer.concat([Buffer.from([memberFormatVersion]), Buffer.from(JSON.stringify(fields), "utf8")]);
}

function decodeMember(key: Buffer, value: Buffer): MemberRecord {
  if (key.length !== memberKeyBytes) throw new Error(`malformed member key ${key.toString("hex")}`);
  if (value.length === 0 || value[0] !== memberFormatVersion) {
    throw new Error(`member record format ${value[0]} is not supported (this build reads ${memberFormatVersion})`);
  }
  const f = JSON.parse(value.toString("utf8", 1)) as Partial<Omit<MemberRecord, "id">>;
  if (typeof f.incarnation !== "string" || typeof f.stayLearner !== "boolean" || typeof f.clientAddress !== "string" || typeof f.peerAddress !== "string") {
    throw new Error(`malformed member record under key ${key.toString("hex")}`);
  }
  return { id: readUint64BE(key, 1), incarnation: f.incarnation, stayLearner: f.stayLearner, clientAddress: f.clientAddress, peerAddress: f.peerAddress };
}

/** Every member record; undefined when none was ever written. */
export async function loadMembers(db: Db): Promise<MemberRecord[] | undefined> {
  const out: MemberRecord[] = [];
  const range = { gte: Buffer.from([PREFIX_MEMBER]), lt: Buffer.from([PREFIX_MEMBER + 1]) };
  for await (const [key, value] of db.iterator({ ...iteratorOptions, ...range })) out.push(decodeMember(key, value));
  return out.length > 0 ? out : undefined;
}
