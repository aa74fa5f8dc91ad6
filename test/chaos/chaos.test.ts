// The chaos run: three real nodes under load while the nemesis kills leaders and followers, pauses and
// isolates nodes, wipes one and restarts all — then proof that nothing acknowledged was lost, nothing was
// invented, order held, and every node holds the same log. Bounded by default (2 min of faults, longer
// until six leader kills, at most 4); CHAOS_MINUTES=N soaks for N minutes; CHAOS_SEED=N replays a
// schedule (see chaos-config.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { chaosConfig } from "./chaos-config";
import { formatReport } from "./report";
import { runChaos } from "./run-chaos";
import { chaosWorkloads } from "./suite";

const config = chaosConfig(process.env);

/** Printed as it happens (the test runner passes a test file's output lines through as comments). */
function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

test(`chaos (${config.mode}, ${config.nodes} nodes, ${Math.round(config.chaosMs / 1000)} s of faults, seed ${config.seed}${config.secure ? ", security on" : ""})`, { timeout: config.testTimeoutMs }, async () => {
  // First, so that even a run that hangs or crashes can be replayed and studied.
  print(`chaos seed ${config.seed} (CHAOS_SEED=${config.seed} replays it); history: ${config.historyPath}`);
  const result = await runChaos({
    seed: config.seed,
    chaosMs: config.chaosMs,
    minLeaderKills: config.minLeaderKills,
    maxChaosMs: config.maxChaosMs,
    historyPath: config.historyPath,
    mix: config.mix,
    nodes: config.nodes,
    workloads: chaosWorkloads({ kafka: !config.secure }),
    log: print,
    secure: config.secure,
  });
  for (const line of formatReport(result.report)) print(line);

  const messages = result.violations.map((v) => `[${v.check}] ${v.message}`);
  assert.deepEqual(messages, [], `violations (seed ${config.seed}, history ${config.historyPath})`);
  const leaderKills = result.faults.filter((f) => f.kind === "kill-leader").length;
  assert.ok(leaderKills >= config.minLeaderKills, `${leaderKills} leader kills, fewer than ${config.minLeaderKills}`);
  assert.ok(result.report.totals.acked > 0, "writes were acknowledged");
});
