import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { EntryType, type Message, MessageType } from "../../src/raft/types";
import { Backoff } from "../../src/transport/backoff";
import { peerMethods } from "../../src/transport/peer-proto";
import { estimateMessageBytes } from "../../src/transport/peer-link";
import { resolveBounds } from "../../src/transport/transport-bounds";
import { messageToWire } from "../../src/transport/wire-convert";

describe("transport bounds", () => {
  it("backs off exponentially with jitter, capped, and starts over after a reset", () => {
    const low = new Backoff(50, 1000, () => 0);
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => low.nextDelayMs()), [25, 50, 100, 200, 400, 500]);
    const high = new Backoff(50, 1000, () => 0.999999);
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => high.nextDelayMs()), [50, 100, 200, 400, 800, 1000]);
    high.reset();
    assert.equal(high.nextDelayMs(), 50);
  });

  it("estimates a message at or above its encoded size, even with every number at its widest", () => {
    const wide = Number.MAX_SAFE_INTEGER;
    const m: Message = {
      type: MessageType.Snap,
      from: wide,
      to: wide,
      term: wide,
      logTerm: wide,
      index: wide,
      entries: Array.from({ length: 50 }, (_, i) => ({ term: wide, index: wide - i, type: EntryType.ConfChange, data: new Uint8Array(i * 100) })),
      commit: wide,
      reject: true,
      rejectHint: wide,
      rejectHintTerm: wide,
      snapshot: { index: wide, term: wide, conf: { voters: [wide, wide, wide], learners: [wide] } },
      context: "é".repeat(40),
    };
    const encoded = peerMethods().raft.requestSerialize({ messages: [messageToWire(m)] }).length;
    assert.ok(estimateMessageBytes(m) >= encoded, `${estimateMessageBytes(m)} < ${encoded}`);
  });

  it("refuses bounds that cannot work", () => {
    assert.throws(() => resolveBounds({ maxQueuedMessages: 0 }), /positive integer/);
    assert.throws(() => resolveBounds({ reconnectBaseMs: 5000, reconnectMaxMs: 100 }), /reconnectBaseMs/);
    assert.throws(() => resolveBounds({ maxBatchBytes: 10, maxMessageBytes: 5 }), /maxBatchBytes/);
  });
});
