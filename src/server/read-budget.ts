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

  /**
   * Admits a new Subscribe stream whose responses hold up to `responseBytes`, or refuses it (RESOURCE_EXHAUSTED
   * / OVERLOADED) at the node's stream cap, or when slow readers leave no room for even its first response.
   */
  openStream(responseBytes: number): StreamBudget {
    if (this.streams >= this.limits.maxStreams) {
      throw overloaded(`this node serves its maximum of ${this.limits.maxStreams} Subscribe streams; retry later or on another node`);
    }
    if (this.pendingBytes > 0 && this.pendingBytes + responseBytes > this.limits.nodeBytes) {
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

  /**
   * Waits until this stream may build a response of up to `bytes` (under its own budget, and the node's
   * with the response counted in), then reserves them: many streams waking at once cannot all pass a
   * check and overshoot together. Resolves undefined if the call is cancelled first.
   */
  async reserve(call: CancellableCall, bytes: number): Promise<Reservation | undefined> {
    while (!this.closed && !call.cancelled && !this.fits(bytes)) {
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
    if (this.closed || call.cancelled) return undefined;
    return new Reservation(this, bytes);
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

  /** Reservation's accounting. */
  adjust(delta: number): void {
    if (this.closed) return;
    this.pendingBytes += delta;
    if (delta >= 0) {
      this.node.add(delta);
    } else {
      this.node.release(-delta);
      this.wake?.();
    }
  }

  private fits(bytes: number): boolean {
    // Alone, a stream may always have one response out, or it could never make progress.
    if (this.pendingBytes >= this.node.limits.streamBytes) return false;
    return this.node.bytesPending === 0 || this.node.bytesPending + bytes <= this.node.limits.nodeBytes;
  }
}

/** Bytes reserved for one response: trimmed to its real size once built, freed when the transport took it. */
export class Reservation {
  private held: number;

  constructor(
    private readonly stream: StreamBudget,
    bytes: number,
  ) {
    this.held = bytes;
    stream.adjust(bytes);
  }

  /** The response came out `bytes` long (0: nothing to send). */
  resize(bytes: number): void {
    this.stream.adjust(bytes - this.held);
    this.held = bytes;
  }

  /** The transport took the response (or it was never sent). */
  readonly release = (): void => {
    this.resize(0);
  };
}
