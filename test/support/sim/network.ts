// The simulated network between nodes: it loses, delays (and so reorders) and duplicates messages
// according to the current weather, and drops everything on cut links. Links are directed, so a cut can
// be one-way (a sends to b, b's answers never arrive) or symmetric.
import { Message, NodeId } from "../../../src/raft";
import { Prng } from "./prng";

export interface NetworkWeather {
  /** Probability that one message is lost. */
  lossRate: number;
  /** Probability that one message is delivered twice. */
  duplicateRate: number;
  minDelayMs: number;
  maxDelayMs: number;
  /** Probability of an unusually slow delivery, which reorders it behind later messages. */
  spikeRate: number;
  spikeDelayMs: number;
}

export const calmWeather: NetworkWeather = {
  lossRate: 0,
  duplicateRate: 0,
  minDelayMs: 1,
  maxDelayMs: 5,
  spikeRate: 0,
  spikeDelayMs: 0,
};

const linkKeySpan = 1 << 16;

export class SimNetwork {
  weather: NetworkWeather = calmWeather;
  /** Scenario scripts drop chosen messages with this; undefined means none. */
  dropIf: ((msg: Message) => boolean) | undefined = undefined;
  private readonly cutLinks = new Set<number>();

  constructor(private readonly prng: Prng) {}

  cut(from: NodeId, to: NodeId): void {
    this.cutLinks.add(from * linkKeySpan + to);
  }

  heal(from: NodeId, to: NodeId): void {
    this.cutLinks.delete(from * linkKeySpan + to);
  }

  cutBetween(a: NodeId, b: NodeId): void {
    this.cut(a, b);
    this.cut(b, a);
  }

  /** A symmetric partition: no message crosses between the two sides. */
  partition(sideA: readonly NodeId[], sideB: readonly NodeId[]): void {
    for (const a of sideA) for (const b of sideB) this.cutBetween(a, b);
  }

  healAll(): void {
    this.cutLinks.clear();
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.cutLinks.has(from * linkKeySpan + to);
  }

  /** Delays after which copies of `msg` arrive: none when it is lost, two when it is duplicated. */
  plan(msg: Message): number[] {
    if (this.isCut(msg.from, msg.to) || (this.dropIf !== undefined && this.dropIf(msg))) return [];
    const w = this.weather;
    if (this.prng.chance(w.lossRate)) return [];
    const copies = this.prng.chance(w.duplicateRate) ? 2 : 1;
    const delays: number[] = [];
    for (let c = 0; c < copies; c++) {
      const spike = this.prng.chance(w.spikeRate) ? this.prng.int(0, w.spikeDelayMs) : 0;
      delays.push(this.prng.int(w.minDelayMs, w.maxDelayMs) + spike);
    }
    return delays;
  }
}
