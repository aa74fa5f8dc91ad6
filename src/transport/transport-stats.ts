// Counters a node can export as metrics, and tests can wait on.

export interface TransportStats {
  /** Raft messages handed to peer streams. */
  messagesSent: number;
  /** Raft messages delivered to this node's handler. */
  messagesReceived: number;
  /** Outbound messages dropped: queue full, too large, unknown peer, or the node isolated. */
  outboundDropped: number;
  /** Inbound messages dropped: malformed, misaddressed, or the node isolated. */
  inboundDropped: number;
}

export function newTransportStats(): TransportStats {
  return { messagesSent: 0, messagesReceived: 0, outboundDropped: 0, inboundDropped: 0 };
}
