// Every queue, batch, window and retry of the peer transport, with its unit, and the gRPC options
// that enforce them on both ends of a link.
import type { ChannelOptions } from "@grpc/grpc-js";

export interface TransportBounds {
  /** Messages waiting to be written to one peer; beyond it new messages are dropped. */
  maxQueuedMessages: number;
  /** Estimated bytes waiting to be written to one peer; beyond it new messages are dropped. */
  maxQueuedBytes: number;
  /** Estimated bytes in one stream write (one batch); a single larger message goes alone. */
  maxBatchBytes: number;
  /** Largest gRPC message a peer port accepts; a raft message estimated above it is never sent. */
  maxMessageBytes: number;
  /** First reconnect delay after a link fails; doubles per failure, with jitter. */
  reconnectBaseMs: number;
  /** Ceiling on the reconnect delay. */
  reconnectMaxMs: number;
  /** Idle time after which a link pings its peer, to find a dead or frozen peer. */
  keepaliveIntervalMs: number;
  /** How long a ping may stay unanswered before the link is declared dead. */
  keepaliveTimeoutMs: number;
  /** Snapshots this node receives at once; more are refused (the leader retries). Keep it at 1 while
   * storage stages one snapshot at a time. */
  maxConcurrentSnapshotInstalls: number;
  /** Deadline on sending one snapshot, end to end. */
  maxSnapshotSendMs: number;
}

export const defaultTransportBounds: TransportBounds = {
  maxQueuedMessages: 4096,
  maxQueuedBytes: 64 * 1024 * 1024,
  maxBatchBytes: 2 * 1024 * 1024,
  maxMessageBytes: 64 * 1024 * 1024,
  reconnectBaseMs: 50,
  reconnectMaxMs: 2000,
  keepaliveIntervalMs: 2000,
  keepaliveTimeoutMs: 2000,
  maxConcurrentSnapshotInstalls: 1,
  maxSnapshotSendMs: 10 * 60 * 1000,
};

export function resolveBounds(overrides: Partial<TransportBounds> = {}): TransportBounds {
  const bounds = { ...defaultTransportBounds, ...overrides };
  for (const [name, value] of Object.entries(bounds)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`transport bound ${name} must be a positive integer: ${value}`);
  }
  if (bounds.reconnectBaseMs > bounds.reconnectMaxMs) throw new RangeError("reconnectBaseMs exceeds reconnectMaxMs");
  if (bounds.maxBatchBytes > bounds.maxMessageBytes) throw new RangeError("maxBatchBytes exceeds maxMessageBytes");
  return bounds;
}

/** Options for the grpc.Server that serves the peer port: it must accept the batches peers send. */
export function peerServerOptions(overrides: Partial<TransportBounds> = {}): ChannelOptions {
  const bounds = resolveBounds(overrides);
  return {
    "grpc.max_receive_message_length": bounds.maxMessageBytes,
    "grpc.keepalive_time_ms": bounds.keepaliveIntervalMs,
    "grpc.keepalive_timeout_ms": bounds.keepaliveTimeoutMs,
  };
}

/** Options for each outbound channel. Each link gets its own connection, so a snapshot in flight
 * never queues raft messages behind it. */
export function peerChannelOptions(bounds: TransportBounds): ChannelOptions {
  return {
    "grpc.max_send_message_length": bounds.maxMessageBytes,
    "grpc.max_receive_message_length": bounds.maxMessageBytes,
    "grpc.keepalive_time_ms": bounds.keepaliveIntervalMs,
    "grpc.keepalive_timeout_ms": bounds.keepaliveTimeoutMs,
    "grpc.keepalive_permit_without_calls": 1,
    "grpc.initial_reconnect_backoff_ms": bounds.reconnectBaseMs,
    "grpc.max_reconnect_backoff_ms": bounds.reconnectMaxMs,
    "grpc.use_local_subchannel_pool": 1,
  };
}
