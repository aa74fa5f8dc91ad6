import { test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { RaftlineError } from "../../src/client/errors";
import { RetryBudget, RetryClock, RetryPolicy, backoffMs, resolvePolicy, retry } from "../../src/client/retry";

const policy: RetryPolicy = {
  maxAttempts: 6,
  initialBackoffMs: 100,
  maxBackoffMs: 1000,
  backoffMultiplier: 2,
  jitterRatio: 0.2,
  maxRetryTimeMs: 60000,
};

/** Virtual time: sleeping advances the clock at once and is recorded. */
function fakeClock(random = 0.5): RetryClock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    nowMs: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
    random: () => random,
  };
}

const unavailable = (fields: Partial<ConstructorParameters<typeof RaftlineError>[0]> = {}): RaftlineError =>
  new RaftlineError({ code: status.UNAVAILABLE, message: "no leader", ...fields });

test("backoff doubles from the initial wait and stops at the ceiling", () => {
  const middle = (): number => 0.5; // no jitter
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((n) => backoffMs(policy, n, middle)),
    [100, 200, 400, 800, 1000, 1000],
  );
});

test("jitter stays within ± jitterRatio and never exceeds the ceiling or drops below zero", () => {
  for (let retryNumber = 1; retryNumber <= 8; retryNumber++) {
    const base = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (retryNumber - 1));
    for (const r of [0, 0.25, 0.5, 0.75, 0.999999]) {
      const ms = backoffMs(policy, retryNumber, () => r);
      assert.ok(ms >= Math.floor(base * (1 - policy.jitterRatio)), `retry ${retryNumber} r=${r}: ${ms}`);
      assert.ok(ms <= Math.min(policy.maxBackoffMs, Math.ceil(base * (1 + policy.jitterRatio))), `retry ${retryNumber} r=${r}: ${ms}`);
    }
  }
  assert.equal(backoffMs({ ...policy, jitterRatio: 1 }, 1, () => 0), 0);
});

test("retry gives up after maxAttempts and throws the last error", async () => {
  const clock = fakeClock();
  let calls = 0;
  await assert.rejects(
    retry(async () => {
      calls++;
      throw unavailable({ message: `attempt ${calls}` });
    }, policy, { clock }),
    (err: RaftlineError) => err.message === "attempt 6",
  );
  assert.equal(calls, policy.maxAttempts);
  assert.deepEqual(clock.slept, [100, 200, 400, 800, 1000]);
});

test("retry gives up when the next wait would pass maxRetryTimeMs", async () => {
  const clock = fakeClock();
  let calls = 0;
  await assert.rejects(
    retry(async () => {
      calls++;
      throw unavailable();
    }, { ...policy, maxAttempts: 100, maxRetryTimeMs: 750 }, { clock }),
  );
  assert.deepEqual(clock.slept, [100, 200, 400]);
  assert.equal(calls, 4);
});

test("a final error is thrown at once", async () => {
  const clock = fakeClock();
  let calls = 0;
  await assert.rejects(
    retry(async () => {
      calls++;
      throw new RaftlineError({ code: status.NOT_FOUND, message: "unknown topic" });
    }, policy, { clock }),
    (err: RaftlineError) => err.codeName === "NOT_FOUND",
  );
  assert.equal(calls, 1);
  assert.deepEqual(clock.slept, []);
});

test("a leader hint elsewhere is followed at once, but two hints in a row back off", async () => {
  const clock = fakeClock();
  const seen: string[] = [];
  const result = await retry(
    async (attempt) => {
      if (attempt <= 2) throw unavailable({ address: `a${attempt}`, leaderAddress: `a${attempt + 1}`, leaderId: attempt + 1 });
      return "ok";
    },
    policy,
    { clock, onError: (err) => seen.push(err.leaderAddress ?? "") },
  );
  assert.equal(result, "ok");
  assert.deepEqual(seen, ["a2", "a3"]);
  assert.deepEqual(clock.slept, [200], "first redirect immediate, the second waits the second backoff");
});

test("a budget reset after progress allows a fresh set of attempts", () => {
  const budget = new RetryBudget({ ...policy, maxAttempts: 2 }, fakeClock());
  assert.equal(budget.next(unavailable()), 100);
  assert.equal(budget.next(unavailable()), undefined);
  budget.reset();
  assert.equal(budget.next(unavailable()), 100);
});

test("policies are validated", () => {
  assert.throws(() => resolvePolicy({ maxAttempts: 0 }), RangeError);
  assert.throws(() => resolvePolicy({ initialBackoffMs: 5000, maxBackoffMs: 100 }), RangeError);
  assert.throws(() => resolvePolicy({ jitterRatio: 2 }), RangeError);
  assert.equal(resolvePolicy({ maxAttempts: 1 }).maxAttempts, 1);
});
