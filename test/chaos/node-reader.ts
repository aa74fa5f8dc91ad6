// Reads one node's own copy of a partition, with no retries and no forwarding: the plain generated stubs
// against that node's client port. A Fetch answers from the node's applied log, so this is what the node
// itself holds.
import * as grpc from "@grpc/grpc-js";
import type { FetchResponse__Output } from "../../src/generated/raftline/v1/FetchResponse";
import { RawStubs, rawStubs, unaryCall } from "../support/raw-stubs";
import type { StoredRecord } from "./model";

/** One Fetch's deadline; a paused or dead node must not hold a caller up for long. */
export const fetchTimeoutMs = 2000;
/** Attempts at one Fetch that timed out or found the node unavailable. */
const fetchAttempts = 3;
/** Bytes asked for per Fetch while reading a whole partition. */
export const readChunkBytes = 1024 * 1024;
/** Fetches per partition read; bounds the loop even if a node kept answering with nothing new. */
const maxFetchesPerRead = 100000;
/** Nodes are killed and restarted all the time: find them again quickly (gRPC's default waits up to 2 min). */
const channelOptions = { "grpc.initial_reconnect_backoff_ms": 100, "grpc.max_reconnect_backoff_ms": 1000 };

export class NodeReader {
  private stubs: RawStubs | undefined;

  constructor(
    readonly node: number,
    private readonly address: string,
  ) {}

  /** The node's high watermark of the partition; -1 when it does not know the topic (yet). */
  async highWatermark(topic: string, partition: number): Promise<number> {
    try {
      return (await this.fetch(topic, partition, 0, 1)).highWatermark;
    } catch (err) {
      if ((err as grpc.ServiceError).code === grpc.status.NOT_FOUND) return -1;
      throw err;
    }
  }

  /** Every record of the partition below `upTo`, as this node stores it. */
  async readPartition(topic: string, partition: number, upTo: number): Promise<StoredRecord[]> {
    const out: StoredRecord[] = [];
    let offset = 0;
    for (let fetches = 0; offset < upTo; fetches++) {
      if (fetches >= maxFetchesPerRead) throw new Error(`node ${this.node}: ${topic}/${partition} still unread at ${offset} after ${fetches} fetches`);
      const res = await this.fetch(topic, partition, offset, readChunkBytes);
      if (res.records.length === 0) throw new Error(`node ${this.node}: ${topic}/${partition} has nothing at ${offset} below ${upTo}`);
      for (const r of res.records) {
        if (r.offset >= upTo) break;
        out.push({
          offset: r.offset,
          timestampMs: r.timestampMs,
          ...(r.key !== null && r.key !== undefined ? { key: r.key } : {}),
          value: r.value,
          headers: r.headers.map((h) => ({ key: h.key, value: h.value })),
        });
      }
      offset = res.records[res.records.length - 1].offset + 1;
    }
    return out;
  }

  close(): void {
    this.stubs?.close();
    this.stubs = undefined;
  }

  private async fetch(topic: string, partition: number, offset: number, maxBytes: number): Promise<FetchResponse__Output> {
    this.stubs ??= rawStubs(this.address, channelOptions);
    const consumer = this.stubs.consumer;
    for (let attempt = 1; ; attempt++) {
      try {
        return await unaryCall<FetchResponse__Output>(
          (opts, cb) => consumer.Fetch({ topic, partition, offset, maxBytes, minBytes: 0, maxWaitMs: 0 }, new grpc.Metadata(), opts, cb),
          fetchTimeoutMs,
        );
      } catch (err) {
        // A node slow to answer on a loaded machine is asked again; one that keeps failing fails the read.
        const code = (err as grpc.ServiceError).code;
        if (attempt >= fetchAttempts || (code !== grpc.status.DEADLINE_EXCEEDED && code !== grpc.status.UNAVAILABLE)) throw err;
      }
    }
  }
}
