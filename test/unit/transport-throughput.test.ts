// A measurement, not a check: raft messages and payload per second over one peer stream, for small
// (100-byte) and batch-sized (16 KiB) entries. Prints a table; asserts only that nothing was dropped.
// Run with RAFTLINE_MEASURE=1.
import { afterEach, it } from "node:test";
import assert from "node:assert/strict";
import { EntryType, type Message } from "../../src/raft/types";
import { type TestPeer, appMessage, startPeers, stopPeer } from "../support/peer-harness";
import { waitFor } from "../support/wait";

/** Entries per App message, entry payload bytes, entries sent in all. */
const shapes: Array<[number, number, number]> = [
  [1, 100, 400_000],
  [16, 100, 400_000],
  [256, 100, 400_000],
  [16, 16 * 1024, 20_000],
];
/** Messages and payload bytes sent but not yet delivered, kept below the queue bounds so nothing is dropped. */
const inFlightMessagesMax = 2048;
const inFlightBytesMax = 32 * 1024 * 1024;
/** Messages handed to send() per event-loop turn. */
const sendTurnMessagesMax = 256;
let running: TestPeer[] = [];

afterEach(async () => {
  for (const peer of running) await stopPeer(peer);
  running = [];
});

function appWithEntries(index: number, entries: number, data: Uint8Array): Message {
  const m = appMessage(1, 2, index);
  m.entries = Array.from({ length: entries }, (_, i) => ({ term: 1, index: index + i, type: EntryType.Normal, data }));
  return m;
}

it("measures one stream's throughput by entry size and entries per message", { skip: process.env.RAFTLINE_MEASURE === undefined }, async () => {
  const rows: string[] = [];
  for (const [entriesPerMessage, entryDataBytes, measuredEntries] of shapes) {
    let delivered = 0;
    running = await startPeers([1, 2], (id) => (id === 2 ? { onMessages: (ms) => void (delivered += ms.length) } : {}));
    const [a] = running;
    const data = new Uint8Array(entryDataBytes).fill(7);
    const messages = Math.ceil(measuredEntries / entriesPerMessage);
    const windowMessages = Math.min(inFlightMessagesMax, Math.floor(inFlightBytesMax / (entriesPerMessage * entryDataBytes)));
    const started = process.hrtime.bigint();
    let sent = 0;
    while (sent < messages) {
      const room = Math.min(windowMessages - (sent - delivered), messages - sent, sendTurnMessagesMax);
      const batch: Message[] = [];
      for (let i = 0; i < room; i++) batch.push(appWithEntries(sent++ * entriesPerMessage + 1, entriesPerMessage, data));
      if (batch.length > 0) a.transport.send(batch);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => delivered === messages, 60_000, "all delivered", 1);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    assert.equal(a.transport.stats().outboundDropped, 0);
    const entries = messages * entriesPerMessage;
    const mb = (entries * entryDataBytes) / 1e6;
    rows.push(
      `${String(entryDataBytes).padStart(11)} | ${String(entriesPerMessage).padStart(11)} | ${(messages / seconds).toFixed(0).padStart(10)} | ${(entries / seconds).toFixed(0).padStart(10)} | ${(mb / seconds).toFixed(1).padStart(6)}`,
    );
    for (const peer of running) await stopPeer(peer);
    running = [];
  }
  console.log(`entry bytes | entries/msg | messages/s | entries/s  | MB/s (entry payload, one stream)\n${rows.join("\n")}`);
});
