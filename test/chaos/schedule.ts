// The nemesis's plan, drawn from one seed: which fault comes next, whom it hits (by role, since who leads
// is only known at run time), how long it is held, and how long the cluster rests afterwards. The same
// seed always yields the same plan, so CHAOS_SEED replays a run's schedule.
import { Prng } from "../support/sim/prng";
import { FaultKind, faultKinds } from "./model";

/** Copies of each fault kind in one deck; each deck is shuffled and played through before the next. */
export type FaultMix = Record<FaultKind, number>;

/** Leader kills dominate: they are what the suite exists to prove, and the bounded run needs ten. */
export const defaultFaultMix: FaultMix = {
  "kill-leader": 5,
  "kill-follower": 1,
  "pause-node": 1,
  "isolate-leader": 1,
  // wipe-node hits the leader or a follower; wipe-follower stays for mixes that ask for it.
  "wipe-follower": 0,
  "restart-all": 1,
  "wipe-node": 1,
  "remove-add-node": 1,
};

/**
 * How long each fault is held before it is healed, [min, max] in ms. A pause or an isolation outlasts the
 * longest randomized election timeout of the server defaults (2 × 6 ticks × 100 ms), so a new leader is
 * elected meanwhile.
 */
export const holdRangeMs: Record<FaultKind, readonly [number, number]> = {
  "kill-leader": [200, 1000],
  "kill-follower": [200, 1000],
  "pause-node": [1500, 3000],
  "isolate-leader": [1500, 3000],
  "wipe-follower": [0, 1000],
  "restart-all": [0, 1000],
  "wipe-node": [0, 1000],
  /** The cluster runs one member short meanwhile. */
  "remove-add-node": [500, 2000],
};

/** Quiet time after a fault's recovery before the next one, [min, max] in ms. */
export const restRangeMs: readonly [number, number] = [200, 800];

export type TargetRole = "leader" | "follower";

export interface PlannedFault {
  kind: FaultKind;
  /** Whom a pause, a wipe-node or a remove-add-node hits; the other kinds name their role in their kind. */
  role: TargetRole;
  /** Chooses among the nodes of that role, sorted by id: index = floor(pick × count). */
  pick: number;
  holdMs: number;
  restMs: number;
}

export class FaultSchedule {
  private readonly prng: Prng;
  private deck: FaultKind[] = [];

  constructor(
    readonly seed: number,
    private readonly mix: FaultMix = defaultFaultMix,
  ) {
    if (faultKinds.every((k) => mix[k] <= 0)) throw new RangeError("the fault mix holds no fault");
    this.prng = new Prng(seed);
  }

  next(): PlannedFault {
    if (this.deck.length === 0) this.deck = this.shuffledDeck();
    const kind = this.deck.pop() as FaultKind;
    const [holdMin, holdMax] = holdRangeMs[kind];
    return {
      kind,
      role: this.prng.chance(0.5) ? "leader" : "follower",
      pick: this.prng.next(),
      holdMs: this.prng.int(holdMin, holdMax),
      restMs: this.prng.int(restRangeMs[0], restRangeMs[1]),
    };
  }

  private shuffledDeck(): FaultKind[] {
    const deck = faultKinds.flatMap((k) => Array.from({ length: this.mix[k] }, () => k));
    for (let i = deck.length - 1; i > 0; i--) {
      const j = this.prng.int(0, i);
      [deck[i], deck[j]] = [deck[j], deck[i]];
    }
    return deck;
  }
}

/**
 * The default mix with some kinds' copies changed, from text like "wipe-node=3,remove-add-node=3,kill-leader=2"
 * (how a soak weights the faults it is after).
 */
export function parseFaultMix(text: string): FaultMix {
  const mix: FaultMix = { ...defaultFaultMix };
  for (const part of text.split(",").map((p) => p.trim()).filter((p) => p.length > 0)) {
    const m = /^([a-z-]+)=(\d+)$/.exec(part);
    const kind = faultKinds.find((k) => k === m?.[1]);
    if (!m || kind === undefined) throw new RangeError(`a fault mix entry must be KIND=COPIES with KIND one of ${faultKinds.join(", ")}, got "${part}"`);
    mix[kind] = Number(m[2]);
  }
  if (faultKinds.every((k) => mix[k] <= 0)) throw new RangeError("the fault mix holds no fault");
  return mix;
}

/** A fresh seed when none is given: any 32-bit value. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 32) >>> 0;
}
