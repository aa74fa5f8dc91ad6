// The streams open on this node's client port with security on, each with the principal that opened it
// and every access its admitted messages needed. A stream is judged when it opens (and each message as it
// arrives), but it may stay open for hours: when the replicated ACLs or tokens change, every open stream
// is judged again, and one whose principal lost its token or a permission it uses is ended.
import type { Access } from "../../broker";
import type { RpcError } from "../rpc-errors";
import type { Principal } from "./access-control";

/** Judges a principal admitted earlier against the current ACLs and tokens. */
export type Rejudge = (principal: Principal, accesses: Iterable<Access>) => RpcError | undefined;

export class OpenStream {
  private readonly granted = new Map<string, Access>();

  constructor(
    readonly principal: Principal,
    /** Ends the stream with this status; called at most once. */
    readonly revoke: (err: RpcError) => void,
  ) {}

  /**
   * Records accesses an admitted message needed. Distinct accesses only: a stream's are bounded by the
   * topics and groups the cluster holds.
   */
  admitted(accesses: readonly Access[]): void {
    for (const a of accesses) this.granted.set(`${a.resourceType}\u0000${a.operation}\u0000${a.name}`, a);
  }

  get accesses(): Iterable<Access> {
    return this.granted.values();
  }
}

export class OpenStreams {
  private readonly streams = new Set<OpenStream>();

  /** Tracks `stream` until the returned function is called (when the call ends, however it ends). */
  open(stream: OpenStream): () => void {
    this.streams.add(stream);
    return () => this.streams.delete(stream);
  }

  get size(): number {
    return this.streams.size;
  }

  /** Ends every stream `rejudge` now refuses; returns how many were ended. */
  recheck(rejudge: Rejudge): number {
    let ended = 0;
    for (const stream of [...this.streams]) {
      const err = rejudge(stream.principal, stream.accesses);
      if (err === undefined) continue;
      this.streams.delete(stream);
      stream.revoke(err);
      ended++;
    }
    return ended;
  }
}
