// What the cluster records of each member through its log, so that every node — one that joined later, or
// restored a snapshot — agrees without having met the member: the incarnation (data directory) it was
// admitted under, whether an operator asked to keep it a learner, and where it is reached. The server
// proposes a record when it adds a member, and when the leader admits a member's incarnation before it
// may vote; peers refuse a voter claiming another incarnation than the recorded one.
import { utf8 } from "./binary";
import { BrokerError } from "./errors";

export interface MemberRecord {
  id: number;
  /** The incarnation admitted for this member; "" until the leader has heard from it. */
  incarnation: string;
  /** Kept as a learner: never promoted automatically. */
  stayLearner: boolean;
  clientAddress: string;
  peerAddress: string;
}

/** Bounds of a record's strings, in UTF-8 bytes. */
export const maxIncarnationBytes = 64;
export const maxMemberAddressBytes = 256;
/** More members than any cluster has: bounds the table in the replicated state. */
export const maxMemberRecords = 1024;

export function validateMemberRecord(m: MemberRecord): void {
  const invalid = (message: string): BrokerError => new BrokerError("INVALID_ARGUMENT", "ERROR_REASON_INVALID_FIELD", message);
  if (!Number.isSafeInteger(m.id) || m.id < 1) throw invalid(`member id must be a positive integer, got ${m.id}`);
  if (utf8(m.incarnation).length > maxIncarnationBytes) throw invalid(`incarnation must be at most ${maxIncarnationBytes} bytes`);
  for (const a of [m.clientAddress, m.peerAddress]) {
    if (utf8(a).length > maxMemberAddressBytes) throw invalid(`member address must be at most ${maxMemberAddressBytes} bytes`);
  }
}

/** The member records in the replicated state, by id. */
export class MemberTable {
  private readonly byId = new Map<number, MemberRecord>();
  private puts = 0;

  static restore(records: readonly MemberRecord[] | undefined): MemberTable {
    const table = new MemberTable();
    for (const r of records ?? []) table.byId.set(r.id, { ...r });
    return table;
  }

  get(id: number): MemberRecord | undefined {
    const r = this.byId.get(id);
    return r && { ...r };
  }

  /** Counts the records written since this table was built: a cheap "has anything changed". */
  get version(): number {
    return this.puts;
  }

  all(): MemberRecord[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id).map((r) => ({ ...r }));
  }

  /** Validates and stores the record (replacing the member's earlier one); returns what to write. */
  put(m: MemberRecord): MemberRecord {
    validateMemberRecord(m);
    if (!this.byId.has(m.id) && this.byId.size >= maxMemberRecords) {
      throw new BrokerError("RESOURCE_EXHAUSTED", "ERROR_REASON_INVALID_FIELD", `at most ${maxMemberRecords} member records`);
    }
    const record = { id: m.id, incarnation: m.incarnation, stayLearner: m.stayLearner, clientAddress: m.clientAddress, peerAddress: m.peerAddress };
    this.byId.set(m.id, record);
    this.puts++;
    return { ...record };
  }
}
