// The group commands' option parsers: reset targets and durations, and the usage errors they raise.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDuration, parseResetTarget } from "../../src/cli/commands/group";
import { UsageError } from "../../src/cli/exit-codes";

test("durations add up their parts; anything else is a usage error", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("90s"), 90_000);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("2d"), 172_800_000);
  for (const bad of ["", "5", "5x", "1h 30m", "-1h", "h1", "1h30"]) assert.throws(() => parseDuration(bad), UsageError, bad);
});

test("exactly one reset target, each parsed to the contract's field", () => {
  assert.deepEqual(parseResetTarget({ to: "earliest" }), { earliest: true });
  assert.deepEqual(parseResetTarget({ to: "latest" }), { latest: true });
  assert.deepEqual(parseResetTarget({ to: "42" }), { offset: 42 });
  assert.deepEqual(parseResetTarget({ toTime: "1700000000000" }), { timestampMs: 1_700_000_000_000 });
  assert.deepEqual(parseResetTarget({ toTime: "2023-11-14T22:13:20Z" }), { timestampMs: 1_700_000_000_000 });
  assert.deepEqual(parseResetTarget({ byDuration: "15m" }), { durationBackMs: 900_000 });
  for (const bad of [{}, { to: "earliest", byDuration: "1h" }, { to: "first" }, { to: "-3" }, { toTime: "yesterday" }]) {
    assert.throws(() => parseResetTarget(bad), UsageError, JSON.stringify(bad));
  }
});
