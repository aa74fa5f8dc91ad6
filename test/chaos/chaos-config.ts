// How a chaos run is chosen from the environment:
//   CHAOS_SEED=N      replay the fault schedule of seed N (decimal or 0x-hex); a fresh seed otherwise
//   CHAOS_MINUTES=N   soak: faults for N minutes instead of the bounded run that `npm test` makes
//   CHAOS_HISTORY=P   write the history to P instead of a new file under the system's temporary folder
//   CHAOS_MIX=K=N,... change some fault kinds' copies per deck (schedule.ts parseFaultMix)
//   CHAOS_NODES=N     cluster size (3 unless given; 5 for a five-node run)
//   CHAOS_SECURE=1    run the cluster with security on (TLS, mutual TLS between nodes, token-authenticated clients)
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FaultMix, defaultFaultMix, parseFaultMix, randomSeed } from "./schedule";

export interface ChaosConfig {
  mode: "bounded" | "soak";
  seed: number;
  /** How long faults keep coming. */
  chaosMs: number;
  /** Faults go on past chaosMs until minLeaderKills were made, up to this long in all. */
  maxChaosMs: number;
  /** The test's own timeout: the chaos, plus start-up, the last recovery and the final checks. */
  testTimeoutMs: number;
  historyPath: string;
  /** Leader SIGKILLs the run must have made to count. */
  minLeaderKills: number;
  mix: FaultMix;
  nodes: number;
  secure: boolean;
}

/**
 * The bounded run inside `npm test`: two minutes of faults and at least six leader kills; on a machine
 * slow to recover, faults go on until the sixth kill, up to four minutes. (Each fault now also restarts
 * nodes with more state to check and more workloads to bring back: ten kills no longer fit CI's budget.)
 */
export const boundedChaosMs = 120_000;
export const boundedMaxChaosMs = 240_000;
export const boundedTestTimeoutMs = 360_000;
export const minLeaderKills = 6;
/** A soak's allowance on top of its chaos time. */
const soakExtraMs = 180_000;

export function parseSeed(text: string): number {
  const n = Number(text.trim());
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** 32) throw new RangeError(`CHAOS_SEED must be an integer in [0, 2^32), got "${text}"`);
  return n;
}

export function chaosConfig(env: NodeJS.ProcessEnv): ChaosConfig {
  const seed = env.CHAOS_SEED ? parseSeed(env.CHAOS_SEED) : randomSeed();
  const historyPath = env.CHAOS_HISTORY || join(tmpdir(), `raftline-chaos-${seed}-${Date.now()}.jsonl`);
  const mix = env.CHAOS_MIX ? parseFaultMix(env.CHAOS_MIX) : defaultFaultMix;
  const nodes = env.CHAOS_NODES ? Number(env.CHAOS_NODES) : 3;
  if (!Number.isInteger(nodes) || nodes < 3 || nodes > 7) throw new RangeError(`CHAOS_NODES must be an integer from 3 to 7, got "${env.CHAOS_NODES}"`);
  const secure = env.CHAOS_SECURE === "1";
  // A mix without leader kills (a soak after other faults) cannot be held to a number of them.
  const shape = { historyPath, mix, nodes, minLeaderKills: mix["kill-leader"] > 0 ? minLeaderKills : 0, secure };
  if (!env.CHAOS_MINUTES) {
    return { mode: "bounded", seed, chaosMs: boundedChaosMs, maxChaosMs: boundedMaxChaosMs, testTimeoutMs: boundedTestTimeoutMs, ...shape };
  }
  const minutes = Number(env.CHAOS_MINUTES);
  if (!(minutes > 0)) throw new RangeError(`CHAOS_MINUTES must be a positive number, got "${env.CHAOS_MINUTES}"`);
  const chaosMs = Math.round(minutes * 60_000);
  return { mode: "soak", seed, chaosMs, maxChaosMs: chaosMs, testTimeoutMs: chaosMs + soakExtraMs, ...shape };
}
