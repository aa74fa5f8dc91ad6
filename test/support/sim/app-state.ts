// The simulated state machine: the ordered list of write ids applied so far, plus a running digest of
// every applied entry (so that two states can be compared in O(1)), plus the membership.
// Its snapshot is what a Snap message carries beside the core's snapshot meta.
import { ConfState, Entry, EntryType } from "../../../src/raft";
import { bytesToLatin1, entryKey, latin1ToBytes } from "./entry-key";

export class AppState {
  constructor(
    public appliedIndex: number,
    public digest: number,
    public conf: ConfState,
    /** Write ids in apply order. */
    public readonly writes: number[],
  ) {}

  static initial(conf: ConfState): AppState {
    return new AppState(0, 0, conf, []);
  }

  /** Applies one committed entry; a ConfChange's effect on membership is passed in by the driver. */
  apply(entry: Entry, confAfter?: ConfState): void {
    this.appliedIndex = entry.index;
    this.digest = mixDigest(this.digest, entryKey(entry));
    if (confAfter !== undefined) {
      // Membership is replicated state too: every node must reach the same one at the same index.
      this.conf = confAfter;
      this.digest = mixDigest(this.digest, `voters ${confAfter.voters.join(",")} learners ${confAfter.learners.join(",")}`);
    }
    if (entry.type === EntryType.Normal && entry.data.length > 0) this.writes.push(decodeWrite(entry.data));
  }

  encode(): Uint8Array {
    const body = JSON.stringify({ a: this.appliedIndex, d: this.digest, c: this.conf, w: this.writes });
    return latin1ToBytes(body);
  }

  static decode(data: Uint8Array): AppState {
    const body = JSON.parse(bytesToLatin1(data)) as { a: number; d: number; c: ConfState; w: number[] };
    return new AppState(body.a, body.d, body.c, body.w);
  }
}

export function encodeWrite(writeId: number): Uint8Array {
  return latin1ToBytes(`w${writeId}`);
}

export function decodeWrite(data: Uint8Array): number {
  return Number(bytesToLatin1(data).slice(1));
}

/** FNV-1a over the key, chained onto the previous digest. */
function mixDigest(digest: number, key: string): number {
  let h = (digest ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
