// Back-pressure on inbound peer streams, over real gRPC: a receiver that says it is full stops reading
// its streams, the sender's bounded queue fills and drops instead of either side buffering without limit,
// and reading resumes when the receiver has room again.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import type { Message } from "../../src/raft/types";
import { type TestPeer, appMessage, startPeers, stopPeer } from "../support/peer-harness";
import { waitFor } from "../support/wait";

let running: TestPeer[] = [];
after(async () => {
  for (const p of running) await stopPeer(p);
});

test("a full receiver pauses its inbound streams until it has room; the sender's queue takes the pressure", async () => {
  const got: Message[] = [];
  let full = false;
  running = await startPeers([1, 2], (id) =>
    id === 2
      ? {
          onMessages: (messages) => {
            got.push(...messages);
            full = true;
            return false;
          },
        }
      : {},
  );
  const [sender, receiver] = running;
  const payload = new Uint8Array(4096).fill(1);
  let sent = 0;
  // Keep offering messages until the sender's own bound drops some: the pressure reached it.
  await waitFor(
    () => {
      for (let i = 0; i < 256; i++) sender.transport.send([appMessage(1, 2, ++sent, payload)]);
      return sender.transport.stats().outboundDropped > 0;
    },
    30000,
    "the sender's queue to fill while the receiver is paused",
    1,
  );
  assert.ok(full, "the receiver was asked first");
  const whilePaused = got.length;
  assert.ok(whilePaused < sent / 2, `the paused receiver took ${whilePaused} of ${sent} messages`);

  receiver.transport.resumeInbound();
  await waitFor(() => got.length > whilePaused, 10000, "reading to resume");
});
