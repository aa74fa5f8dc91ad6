// The nemesis: crashes and restarts nodes (a restart keeps only what the disk holds) — also right after
// a vote or term change, before its write is synced — partitions the
// network symmetrically or one way, isolates the leader, and changes the weather (loss, duplication,
// delay and so reordering). Every fault it starts it also ends after a while; stop() ends them all.
import { NodeId } from "../../../src/raft";
import { SimCluster } from "./cluster";
import { NetworkWeather } from "./network";
import { NemesisRates } from "./profile";

type Fault = "crash" | "crash-leader" | "crash-unsynced" | "partition" | "one-way" | "isolate-leader" | "weather" | "heal";

/** Relative frequencies of the faults. */
const faultWeights: ReadonlyArray<[Fault, number]> = [
  ["crash", 2],
  ["crash-leader", 2],
  ["crash-unsynced", 2],
  ["partition", 2],
  ["one-way", 1],
  ["isolate-leader", 3],
  ["weather", 2],
  ["heal", 1],
];
const totalWeight = faultWeights.reduce((sum, [, w]) => sum + w, 0);

export class Nemesis {
  private running = false;
  readonly counts = new Map<Fault, number>();

  constructor(
    private readonly cluster: SimCluster,
    private readonly rates: NemesisRates,
  ) {}

  start(): void {
    this.running = true;
    this.scheduleFault();
  }

  stop(): void {
    this.running = false;
  }

  private scheduleFault(): void {
    const prng = this.cluster.prng;
    this.cluster.schedule(prng.waitMs(this.rates.faultMeanIntervalMs), "nemesis", () => {
      if (!this.running) return;
      const fault = this.pickFault();
      this.counts.set(fault, (this.counts.get(fault) ?? 0) + 1);
      this.inject(fault);
      this.scheduleFault();
    });
  }

  private pickFault(): Fault {
    let r = this.cluster.prng.next() * totalWeight;
    for (const [fault, weight] of faultWeights) {
      r -= weight;
      if (r < 0) return fault;
    }
    return faultWeights[faultWeights.length - 1][0];
  }

  private inject(fault: Fault): void {
    const cluster = this.cluster;
    const prng = cluster.prng;
    const ids = [...cluster.nodes()].map((n) => n.id);
    switch (fault) {
      case "crash": {
        const up = cluster.upNodes();
        if (up.length > 0) this.crashFor(prng.pick(up).id);
        break;
      }
      case "crash-leader": {
        const leader = cluster.leader();
        if (leader !== undefined) this.crashFor(leader.id);
        break;
      }
      case "crash-unsynced": {
        // Between a vote (or a term adopted) and its fsync: what a driver that answers too early risks.
        const exposed = cluster.upNodes().filter((n) => n.writeUnderWay || n.store.holdsUnsyncedVote);
        if (exposed.length > 0) this.crashFor(prng.pick(exposed).id);
        break;
      }
      case "partition": {
        const side = prng.subset(ids, 0.5);
        const rest = ids.filter((id) => !side.includes(id));
        this.cutFor(side.flatMap((a) => rest.flatMap((b): Array<[NodeId, NodeId]> => [[a, b], [b, a]])));
        break;
      }
      case "one-way": {
        const from = prng.pick(ids);
        const to = prng.pick(ids);
        if (from !== to) this.cutFor([[from, to]]);
        break;
      }
      case "isolate-leader": {
        const leader = cluster.leader();
        if (leader === undefined) break;
        const others = ids.filter((id) => id !== leader.id);
        this.cutFor(others.flatMap((id): Array<[NodeId, NodeId]> => [[leader.id, id], [id, leader.id]]));
        break;
      }
      case "weather":
        cluster.network.weather = this.drawWeather();
        cluster.note(`weather ${JSON.stringify(cluster.network.weather)}`);
        break;
      case "heal":
        cluster.network.healAll();
        cluster.note("heal all links");
        break;
    }
  }

  private crashFor(id: NodeId): void {
    const cluster = this.cluster;
    cluster.crash(id);
    cluster.schedule(cluster.prng.int(1, this.rates.maxOutageMs), `restart ${id}`, () => cluster.restart(id));
  }

  private cutFor(links: Array<[NodeId, NodeId]>): void {
    const cluster = this.cluster;
    for (const [from, to] of links) cluster.network.cut(from, to);
    cluster.note(`cut ${links.map(([from, to]) => `${from}->${to}`).join(" ")}`);
    cluster.schedule(cluster.prng.int(1, this.rates.maxOutageMs), "heal links", () => {
      for (const [from, to] of links) cluster.network.heal(from, to);
    });
  }

  private drawWeather(): NetworkWeather {
    const prng = this.cluster.prng;
    return {
      lossRate: prng.pick([0, 0, 0.05, 0.2, 0.5]),
      duplicateRate: prng.pick([0, 0.05, 0.2]),
      minDelayMs: 1,
      maxDelayMs: prng.pick([2, 10, 40]),
      spikeRate: prng.pick([0, 0.05, 0.2]),
      spikeDelayMs: prng.pick([50, 300]),
    };
  }
}
