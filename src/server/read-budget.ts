// What readers may cost a node, bounded in advance: Subscribe streams and Fetch long polls are counted
// against node-wide caps, and the encoded responses a stream has handed to the transport but the client
// has not taken yet are counted in bytes, per stream and over the node. A stream at its budget (or any
// stream while the node is at its budget) stops reading the log until the transport drains, so a reader
// that never reads costs at most its budget and no CPU.
import { status } from "@grpc/grpc-js";
import type { Abortable } from "./apply-signal";
import { RpcError } from "./rpc-errors";

/** A call that may be cancelled while a stream waits for room (a grpc-js server call is one). */
export interface CancellableCall extends Abortable {
  readonly cancelled: boolean;
}

export interface ReadLimits {
  /** Bytes one stream may have written and not yet taken by the transport. */
  streamBytes: number;
  /** The same, summed over every stream of the node. */
  nodeBytes: number;
  maxStreams: number;
  maxLongPolls: number;
}

function overloaded(message: string): RpcError {
  return new RpcError(status.RESOURCE_EXHAUSTED, "ERROR_REASON_OVERLOADED", message);
}

export class ReadBudget {
  private streams = 0;
  private longPolls = 0;
  private pendingBytes = 0;
  /** Streams waiting for the node's pending bytes to fall under its budget. */
  private nodeWaiters = new Set<() => void>();

  constructor(readonly limits: ReadLimits) {}

  get openStreams(): number {
    return this.streams;
  }

  get bytesPending(): number {
    return this.pendingBytes;
  }

  /** Admits a new Subscribe stream, or refuses it (RESOURCE_EXHAUSTED / OVERLOADED) at either node cap. */
  openStream(): StreamBudget {
    if (this.streams >= this.limits.maxStreams) {
      throw overloaded(`this node serves its maximum of ${this.limits.maxStreams} Subscribe streams; retry later or on another node`);
    }
    if (this.pendingBytes >= this.limits.nodeBytes) {
      throw overloaded("slow subscribers hold this node's whole read budget; retry later or on another node");
    }
    this.streams++;
    return new StreamBudget(this);
  }

  /** Admits one long poll; the returned function ends it. Refuses past the node's cap. */
  beginLongPoll(): () => void {
    if (this.longPolls >= this.limits.maxLongPolls) {
      throw overloaded(`this node holds its maximum of ${this.limits.maxLongPolls} waiting Fetch calls; retry later, or fetch with max_wait_ms 0`);
    }
    this.longPolls++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.longPolls--;
    };
  }

  /** StreamBudget's accounting from here down. */
  add(bytes: number): void {
    this.pendingBytes += bytes;
  }

  release(bytes: number): void {
    this.pendingBytes -= bytes;
    if (this.pendingBytes < this.limits.nodeBytes && this.nodeWaiters.size > 0) {
      const waiters = this.nodeWaiters;
      this.nodeWaiters = new Set();
      for (const w of waiters) w();
    }
  }

  overNodeBudget(): boolean {
    return this.pendingBytes >= this.limits.nodeBytes;
  }

  waitNode(wake: () => void): () => void {
    this.nodeWaiters.add(wake);
    return () => this.nodeWaiters.delete(wake);
  }

  closeStream(): void {
    this.streams--;
  }
}

/** One Subscribe stream's share of the read budget. */
export class StreamBudget {
  private pendingBytes = 0;
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(private readonly node: ReadBudget) {}

  /** Counts `bytes` handed to the transport; call the returned function when the transport took them. */
  track(bytes: number): () => void {
    this.pendingBytes += bytes;
    this.node.add(bytes);
    let released = false;
    return () => {
      if (released || this.closed) return;
      released = true;
      this.pendingBytes -= bytes;
      this.node.release(bytes);
      this.wake?.();
    };
  }

  /** Resolves once this stream may write another response: under its own budget and the node's, or cancelled. */
  async room(call: CancellableCall): Promise<void> {
    while (!this.closed && !call.cancelled && (this.pendingBytes >= this.node.limits.streamBytes || this.node.overNodeBudget())) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.wake = undefined;
          stopNode();
          call.off("cancelled", done);
          resolve();
        };
        this.wake = done;
        const stopNode = this.node.waitNode(done);
        call.once("cancelled", done);
      });
    }
  }

  /** The stream ended: whatever the transport still holds for it is freed with it. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.node.release(this.pendingBytes);
    this.pendingBytes = 0;
    this.node.closeStream();
    this.wake?.();
  }
}
