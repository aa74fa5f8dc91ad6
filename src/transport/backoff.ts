// Exponential backoff with jitter for reconnects: spreads retries so peers that failed together do
// not reconnect in lockstep.

export class Backoff {
  private failures = 0;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt: in [half, whole] of min(max, base × 2^failures). */
  nextDelayMs(): number {
    const ceilingMs = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    return Math.round(ceilingMs * (0.5 + 0.5 * this.random()));
  }

  reset(): void {
    this.failures = 0;
  }
}
