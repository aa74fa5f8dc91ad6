// Keeps the client's broker list in step with the cluster's membership without the application asking:
// a DescribeCluster soon after the client starts, then every `everyMs`, and whenever a broker could not be
// reached (at most once per minGapMs). So a client given one address goes on working as nodes are added,
// removed or replaced — including once the node it was given is gone.
import type { BrokerPool } from "./broker-pool";

/** What one refresh learns: the members' client addresses and the leader's, if one is known. */
export interface MemberView {
  members: string[];
  leader: string | undefined;
}

export const defaultMemberRefreshMs = 30000;
/** Floor between two refreshes, whatever asks for them: a dead broker must not cause a storm. */
const minGapMs = 1000;

export class MemberRefresh {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastStartedMs = -Infinity;

  constructor(
    private readonly pool: BrokerPool,
    private readonly describe: (address: string) => Promise<MemberView>,
    private readonly everyMs: number,
  ) {}

  start(): void {
    if (this.everyMs <= 0) return;
    this.pool.onUnreachable(() => this.soon());
    this.timer = setInterval(() => this.soon(), this.everyMs);
    // Refreshing must never keep a process alive on its own.
    this.timer.unref();
    this.soon();
  }

  /** Starts a refresh unless one is running or one started less than minGapMs ago. */
  soon(): void {
    const now = Date.now();
    if (this.running !== undefined || now - this.lastStartedMs < minGapMs) return;
    this.lastStartedMs = now;
    this.running = this.refresh().finally(() => (this.running = undefined));
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Asks the brokers in turn until one answers; a failed round is simply tried again later. */
  private async refresh(): Promise<void> {
    const tried = new Set<string>();
    for (;;) {
      const address = this.pool.target(false);
      if (tried.has(address)) return;
      tried.add(address);
      try {
        const view = await this.describe(address);
        this.pool.noteMembers(view.members);
        this.pool.noteLeader(view.leader);
        return;
      } catch {
        this.pool.passOver(address);
      }
    }
  }
}
