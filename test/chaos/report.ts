// What a chaos run tells the people reading it: faults by kind, how long each kind kept writes from
// succeeding, and what the checker counted — as a plain object (also written to the history) and as
// printable lines.
import type { CheckStats } from "./checker";
import { FaultRecord, SendOp, Violation, faultKinds, faultLabel } from "./model";
import { Distribution, distribution, unavailabilityWindows } from "./unavailability";

export interface FaultKindReport {
  /** The kind, and for a pause the role it hit (model.faultLabel). */
  label: string;
  count: number;
  /** Unavailability windows of this kind, in ms. */
  unavailability: Distribution | undefined;
  /** Faults after which no record sent later was ever acknowledged. */
  unrecovered: number;
}

export interface ChaosReport {
  seed: number;
  historyPath: string;
  elapsedMs: number;
  faults: FaultKindReport[];
  /** Over every fault of every kind. */
  unavailability: Distribution | undefined;
  totals: CheckStats & { sends: number };
  workloads: Record<string, number>;
  violations: number;
}

export function buildReport(input: {
  seed: number;
  historyPath: string;
  elapsedMs: number;
  faults: readonly FaultRecord[];
  sends: readonly SendOp[];
  stats: CheckStats;
  workloads: Record<string, number>;
  violations: readonly Violation[];
}): ChaosReport {
  const windows = unavailabilityWindows(input.faults, input.sends);
  const measured = (ws: typeof windows): number[] => ws.flatMap((w) => (w.windowMs === undefined ? [] : [w.windowMs]));
  const faults = reportLabels(input.faults).map((label) => {
    const ofKind = windows.filter((w) => w.label === label);
    return {
      label,
      count: ofKind.length,
      unavailability: distribution(measured(ofKind)),
      unrecovered: ofKind.filter((w) => w.windowMs === undefined).length,
    };
  });
  return {
    seed: input.seed,
    historyPath: input.historyPath,
    elapsedMs: input.elapsedMs,
    faults,
    unavailability: distribution(measured(windows)),
    totals: { ...input.stats, sends: input.sends.length },
    workloads: input.workloads,
    violations: input.violations.length,
  };
}

/** Every kind in a fixed order, a paused leader and a paused follower apart once either happened. */
function reportLabels(faults: readonly FaultRecord[]): string[] {
  const seen = new Set(faults.map(faultLabel));
  return faultKinds.flatMap((kind) => {
    const roles = (["leader", "follower"] as const).map((role) => faultLabel({ kind, role })).filter((l) => seen.has(l));
    return roles.length > 0 ? roles : [kind];
  });
}

function ms(d: Distribution | undefined): string {
  return d ? `p50 ${Math.round(d.p50)} ms, p99 ${Math.round(d.p99)} ms, max ${Math.round(d.max)} ms` : "none measured";
}

export function formatReport(r: ChaosReport): string[] {
  const t = r.totals;
  return [
    `chaos seed ${r.seed} (replay with CHAOS_SEED=${r.seed}); history ${r.historyPath}`,
    `ran ${(r.elapsedMs / 1000).toFixed(1)} s; ${r.faults.reduce((n, f) => n + f.count, 0)} faults`,
    ...r.faults.map(
      (f) => `  ${f.label.padEnd(26)} ×${String(f.count).padStart(3)}  unavailable ${ms(f.unavailability)}${f.unrecovered ? `, ${f.unrecovered} unrecovered` : ""}`,
    ),
    `  ${"all faults".padEnd(26)}       unavailable ${ms(r.unavailability)}`,
    `sends ${t.sends}, acknowledged ${t.acked}, lost ${t.lost}, duplicated (idempotent) ${t.duplicatedIdempotent}, ` +
      `duplicated (plain, allowed) ${t.duplicatedPlain}, phantom ${t.phantoms}, unacknowledged but appended ${t.unackedAppended}, records ${t.records}`,
    `workloads: ${Object.entries(r.workloads).map(([k, v]) => `${k} ${v}`).join(", ")}`,
    `violations: ${r.violations}`,
  ];
}
