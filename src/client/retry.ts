// The one retrier: exponential backoff with jitter, bounded in attempts and in total time. Every call the
// SDK makes goes through it (unary calls via `retry`, long-lived streams via a RetryBudget of their own).
import { RaftlineError, toRaftlineError } from "./errors";

export interface RetryPolicy {
  /** Attempts in total, the first one included; 1 disables retries. */
  maxAttempts: number;
  /** Wait before the first retry. */
  initialBackoffMs: number;
  /** Ceiling of any single wait. */
  maxBackoffMs: number;
  /** Each wait is this many times the previous one (before jitter). */
  backoffMultiplier: number;
  /** Each wait is moved by up to ± this fraction of itself, so clients do not retry in lockstep. */
  jitterRatio: number;
  /** No retry starts once this much time has passed since the first attempt. */
  maxRetryTimeMs: number;
}

// A leader election takes about a second: a retry waiting longer than a quarter of that only adds to
// the outage a client sees, so the backoff stays short and the attempts span a few elections.
export const defaultRetryPolicy: Readonly<RetryPolicy> = {
  maxAttempts: 20,
  initialBackoffMs: 50,
  maxBackoffMs: 250,
  backoffMultiplier: 2,
  jitterRatio: 0.2,
  maxRetryTimeMs: 30000,
};

/** Time and chance, injected so that tests can drive the retrier without real waits. */
export interface RetryClock {
  nowMs(): number;
  sleep(ms: number): Promise<void>;
  /** Uniform in [0, 1). */
  random(): number;
}

export const systemClock: RetryClock = {
  nowMs: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
};

export function resolvePolicy(overrides: Partial<RetryPolicy> | undefined): RetryPolicy {
  const policy = { ...defaultRetryPolicy, ...overrides };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) throw new RangeError("retry.maxAttempts must be an integer >= 1");
  if (policy.initialBackoffMs < 0 || policy.maxBackoffMs < policy.initialBackoffMs) {
    throw new RangeError("retry backoff must satisfy 0 <= initialBackoffMs <= maxBackoffMs");
  }
  if (policy.backoffMultiplier < 1) throw new RangeError("retry.backoffMultiplier must be >= 1");
  if (policy.jitterRatio < 0 || policy.jitterRatio > 1) throw new RangeError("retry.jitterRatio must be in [0, 1]");
  if (policy.maxRetryTimeMs < 0) throw new RangeError("retry.maxRetryTimeMs must be >= 0");
  return policy;
}

/** The wait before retry number `retry` (1 = the first retry), jittered and within [0, maxBackoffMs]. */
export function backoffMs(policy: RetryPolicy, retry: number, random: () => number): number {
  const base = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * policy.backoffMultiplier ** (retry - 1));
  const jitter = base * policy.jitterRatio * (2 * random() - 1);
  return Math.round(Math.min(policy.maxBackoffMs, Math.max(0, base + jitter)));
}

/**
 * Counts attempts against a policy. `next(err)` says how long to wait before trying again, or undefined
 * when the error is final or the budget is spent. A retriable error naming a leader elsewhere is retried
 * at once (there, by the caller), but never twice in a row, so stale hints cannot loop without backoff.
 */
export class RetryBudget {
  private attempts = 1;
  private startedMs: number;
  private lastWasRedirect = false;

  constructor(
    private readonly policy: RetryPolicy,
    private readonly clock: RetryClock = systemClock,
  ) {
    this.startedMs = clock.nowMs();
  }

  next(err: RaftlineError): number | undefined {
    if (!err.retriable || this.attempts >= this.policy.maxAttempts) return undefined;
    const redirect = err.redirectsElsewhere && !this.lastWasRedirect;
    const waitMs = redirect ? 0 : backoffMs(this.policy, this.attempts, this.clock.random);
    if (this.clock.nowMs() + waitMs - this.startedMs > this.policy.maxRetryTimeMs) return undefined;
    this.attempts++;
    this.lastWasRedirect = redirect;
    return waitMs;
  }

  /** Starts over, e.g. after a stream made progress. */
  reset(): void {
    this.attempts = 1;
    this.startedMs = this.clock.nowMs();
    this.lastWasRedirect = false;
  }

  get attemptsMade(): number {
    return this.attempts;
  }
}

/**
 * Runs `attempt` until it succeeds, fails with a final error, or the policy's budget is spent; then
 * throws the last error. `onError` sees every failure first (to learn leader hints).
 */
export async function retry<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  policy: RetryPolicy,
  options: { clock?: RetryClock; onError?: (err: RaftlineError) => void } = {},
): Promise<T> {
  const clock = options.clock ?? systemClock;
  const budget = new RetryBudget(policy, clock);
  for (;;) {
    try {
      return await attempt(budget.attemptsMade);
    } catch (thrown) {
      const err = toRaftlineError(thrown);
      options.onError?.(err);
      const waitMs = budget.next(err);
      if (waitMs === undefined) throw err;
      if (waitMs > 0) await clock.sleep(waitMs);
    }
  }
}
