// The shape of one simulated run, drawn from its seed: cluster size, core configuration, driver limits,
// and how busy the clients, the operator and the nemesis are. Varying these per seed lets the same suite
// reach batching, flow control, compaction and snapshot paths that one fixed setting would miss.
import { RaftConfig } from "../../../src/raft";
import { NetworkWeather } from "./network";
import { Prng } from "./prng";
import { DriverLimits } from "./sim-node";

export interface WorkloadRates {
  writeMeanIntervalMs: number;
  /** Bound on writes proposed in one call. */
  maxWritesPerProposal: number;
  readMeanIntervalMs: number;
  /** Bound on reads started at one node at once: several overlap in one read round, or span rounds. */
  maxReadsPerBurst: number;
}

export interface OperatorRates {
  transferMeanIntervalMs: number;
  membershipMeanIntervalMs: number;
  /** Learners kept at once: with several, a core that counts learners in a quorum shows. */
  maxLearners: number;
}

export interface NemesisRates {
  faultMeanIntervalMs: number;
  /** Bound on how long one crash or partition lasts. */
  maxOutageMs: number;
}

export interface SimProfile {
  nodeCount: number;
  tickMs: number;
  maxClockSkewPercent: number;
  /** How long a disk write takes at most; 0 makes every write complete at once. */
  maxDiskWriteMs: number;
  reportDelayMs: number;
  raft: RaftConfig;
  limits: DriverLimits;
  workload: WorkloadRates;
  operator: OperatorRates;
  nemesis: NemesisRates;
  /** The weather the network starts with; the nemesis changes it. */
  weather: NetworkWeather;
  /** After the nemesis stops and the network heals, the cluster must recover within this many ticks. */
  livenessBoundTicks: number;
  /** Added nodes start knowing no members (else with the bootstrap membership); both must work. */
  joinersStartEmpty: boolean;
  /** How often recovery starts with a minority of the voters left down. */
  bareQuorumRecoveryRate: number;
}

export function drawProfile(prng: Prng, nodeCount: number): SimProfile {
  const maxMsgBytes = prng.pick([8, 64, 1024, 1 << 20]);
  const maxInflightMsgs = prng.pick([1, 2, 8, 256]);
  // The uncommitted tail is what a recovering follower must catch up on: keep it a few windows long.
  const maxUncommittedBytes = Math.min(1 << 30, maxMsgBytes * maxInflightMsgs * prng.pick([4, 64]));
  return {
    nodeCount,
    tickMs: 10,
    maxClockSkewPercent: prng.pick([0, 5]),
    maxDiskWriteMs: prng.pick([0, 2, 6]),
    reportDelayMs: 5,
    raft: {
      id: 0,
      electionTicks: prng.pick([4, 6, 10]),
      heartbeatTicks: prng.pick([1, 2]),
      preVote: prng.chance(0.75),
      checkQuorum: prng.chance(0.75),
      maxMsgBytes,
      maxInflightMsgs,
      maxUncommittedBytes,
      learnerCatchUpEntries: prng.pick([5, 50]),
    },
    limits: {
      compactEveryEntries: prng.pick([4, 16, 64, 256]),
      readTimeoutMs: 1000,
      maxPendingReads: 32,
      maxReadyRoundsPerInput: 64,
    },
    workload: {
      writeMeanIntervalMs: prng.pick([4, 12, 40]),
      maxWritesPerProposal: prng.pick([1, 4]),
      readMeanIntervalMs: prng.pick([10, 40]),
      maxReadsPerBurst: prng.pick([1, 4]),
    },
    operator: {
      // 40 ms: transfers under a steady write load, one after another.
      transferMeanIntervalMs: prng.pick([40, 150, 600]),
      membershipMeanIntervalMs: prng.pick([200, 800]),
      maxLearners: prng.pick([1, 3]),
    },
    nemesis: {
      faultMeanIntervalMs: prng.pick([20, 60, 200]),
      maxOutageMs: prng.pick([150, 600]),
    },
    weather: {
      lossRate: prng.pick([0, 0.02, 0.1]),
      duplicateRate: prng.pick([0, 0.05]),
      minDelayMs: 1,
      maxDelayMs: prng.pick([3, 10, 30]),
      spikeRate: prng.pick([0, 0.05]),
      spikeDelayMs: 100,
    },
    livenessBoundTicks: 300,
    bareQuorumRecoveryRate: 0.3,
    joinersStartEmpty: prng.chance(0.5),
  };
}
