// Clients: they propose uniquely numbered writes and issue linearizable reads, mostly at the node they
// believe leads, sometimes anywhere (a follower refuses writes and forwards reads to its leader).
import { SimCluster } from "./cluster";
import { WorkloadRates } from "./profile";
import { SimNode } from "./sim-node";

const preferLeaderRate = 0.85;

export class Workload {
  private running = false;
  private nextWriteId = 1;
  private nextReadId = 1;
  writesProposed = 0;

  constructor(
    private readonly cluster: SimCluster,
    private readonly rates: WorkloadRates,
  ) {}

  start(): void {
    this.running = true;
    this.scheduleWrite();
    this.scheduleRead();
  }

  stop(): void {
    this.running = false;
  }

  /** Proposes one write at the leader: its id, or why no leader took it. */
  proposeOneAtLeader(): { ok: true; writeId: number } | { ok: false; reason: string } {
    const leader = this.cluster.leader();
    if (leader === undefined) return { ok: false, reason: "no leader" };
    const writeId = this.nextWriteId++;
    const result = leader.proposeWrites([writeId]);
    return result.ok ? { ok: true, writeId } : { ok: false, reason: `${result.code}: ${result.message}` };
  }

  private scheduleWrite(): void {
    this.cluster.schedule(this.cluster.prng.waitMs(this.rates.writeMeanIntervalMs), "client write", () => {
      if (!this.running) return;
      this.write();
      this.scheduleWrite();
    });
  }

  private scheduleRead(): void {
    this.cluster.schedule(this.cluster.prng.waitMs(this.rates.readMeanIntervalMs), "client read", () => {
      if (!this.running) return;
      this.read();
      this.scheduleRead();
    });
  }

  private write(): void {
    const target = this.pickTarget();
    if (target === undefined) return;
    const count = this.cluster.prng.int(1, this.rates.maxWritesPerProposal);
    const ids = Array.from({ length: count }, () => this.nextWriteId++);
    this.writesProposed += count;
    target.proposeWrites(ids);
  }

  private read(): void {
    const target = this.pickTarget();
    if (target === undefined) return;
    const count = this.cluster.prng.int(1, this.rates.maxReadsPerBurst);
    for (let k = 0; k < count; k++) target.read(this.nextReadId++);
  }

  private pickTarget(): SimNode | undefined {
    const prng = this.cluster.prng;
    const leader = this.cluster.leader();
    if (leader !== undefined && prng.chance(preferLeaderRate)) return leader;
    const up = this.cluster.upNodes();
    return up.length === 0 ? undefined : prng.pick(up);
  }
}
