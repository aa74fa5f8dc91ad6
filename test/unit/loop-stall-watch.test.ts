// The stall watch logs a check that came late by the threshold or more, with how late, and nothing else.
import assert from "node:assert/strict";
import { test } from "node:test";
import { watchLoopStalls } from "../../src/server/loop-stall-watch";
import { waitFor } from "../support/wait";

test("a check late by the threshold is logged with its lateness; checks on time are not", async () => {
  const warnings: object[] = [];
  let clock = 0;
  let checks = 0;
  const stop = watchLoopStalls({ warn: (fields) => warnings.push(fields) }, 100, 5, () => {
    checks++;
    return clock;
  });
  try {
    // On time: each check finds the clock one period on.
    for (let i = 1; i <= 3; i++) {
      const before = checks;
      clock += 5;
      await waitFor(() => checks > before, 5000, "a check");
    }
    assert.deepEqual(warnings, []);
    const before = checks;
    clock += 5 + 150;
    await waitFor(() => checks > before, 5000, "a late check");
    assert.deepEqual(warnings, [{ stalledMs: 150 }]);
  } finally {
    stop();
  }
});
