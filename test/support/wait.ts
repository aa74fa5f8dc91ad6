// Waiting on conditions, never on the clock alone: poll until the condition holds or a deadline passes.
import { setTimeout as delay } from "node:timers/promises";

export const pollIntervalMs = 25;

/**
 * Resolves with the condition's first truthy result. A condition that throws counts as not yet; the last
 * error is quoted if the deadline passes.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  deadlineMs: number,
  description = "condition",
  intervalMs = pollIntervalMs,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + deadlineMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const cause = lastError === undefined ? "" : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      throw new Error(`timed out after ${deadlineMs} ms waiting for ${description}${cause}`);
    }
    await delay(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}

/** Resolves with the promise, or fails with a clear message when the deadline passes first. */
export async function withDeadline<T>(promise: Promise<T>, deadlineMs: number, description: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${deadlineMs} ms waiting for ${description}`)), deadlineMs);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
