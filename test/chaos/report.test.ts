// The chaos run's bookkeeping without a cluster: unavailability windows and their percentiles, the seeded
// fault schedule (a seed replays it), the report's totals, and the environment switches.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { boundedChaosMs, chaosConfig, parseSeed } from "./chaos-config";
import { send } from "./fabricated";
import { FaultKind, FaultRecord, faultKinds } from "./model";
import { lastErrorOf } from "./node-crashes";
import { buildReport, formatReport } from "./report";
import { FaultSchedule, defaultFaultMix, holdRangeMs, parseFaultMix } from "./schedule";
import { distribution, percentile, unavailabilityWindows } from "./unavailability";

function fault(kind: FaultKind, injectedAtMs: number): FaultRecord {
  return { kind, targets: [1], injectedAtMs, healedAtMs: injectedAtMs + 100, recoveredAtMs: injectedAtMs + 200 };
}

describe("unavailability windows", () => {
  test("a window ends at the first ack of a record sent after the fault", () => {
    const sends = [
      // Sent before the fault, answered after it: its answer may have been on the way already.
      send({ seq: 0, invokedAtMs: 990, ackedAtMs: 1001, offset: 0 }),
      send({ seq: 1, invokedAtMs: 1010, ackedAtMs: 2500, offset: 2 }),
      send({ seq: 2, invokedAtMs: 1500, ackedAtMs: 2200, offset: 1 }),
      send({ seq: 3, invokedAtMs: 1600, failed: true }),
    ];
    const windows = unavailabilityWindows([fault("kill-leader", 1000), fault("pause-node", 3000)], sends);
    assert.deepEqual(windows, [
      { label: "kill-leader", injectedAtMs: 1000, windowMs: 1200 },
      { label: "pause-node", injectedAtMs: 3000, windowMs: undefined },
    ]);
  });

  test("nearest-rank percentiles", () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    assert.equal(percentile(values, 50), 50);
    assert.equal(percentile(values, 99), 99);
    assert.equal(percentile([7], 99), 7);
    assert.deepEqual(distribution([300, 100, 200]), { count: 3, p50: 200, p99: 300, max: 300 });
    assert.equal(distribution([]), undefined);
    assert.throws(() => percentile([], 50), RangeError);
  });

  test("the report groups windows by fault kind and counts the unrecovered", () => {
    const sends = [send({ seq: 0, invokedAtMs: 10, ackedAtMs: 510, offset: 0 }), send({ seq: 1, invokedAtMs: 2000, ackedAtMs: 2100, offset: 1 })];
    const stats = { acked: 2, lost: 0, duplicatedIdempotent: 0, duplicatedPlain: 0, phantoms: 0, unackedAppended: 0, records: 2 };
    const report = buildReport({
      seed: 7,
      historyPath: "h.jsonl",
      elapsedMs: 3000,
      faults: [fault("kill-leader", 0), fault("kill-leader", 1900), fault("restart-all", 2500), { ...fault("pause-node", 2600), role: "leader" }],
      sends,
      stats,
      workloads: { "plain acked": 2 },
      violations: [],
    });
    const kill = report.faults.find((f) => f.label === "kill-leader");
    assert.deepEqual(kill, { label: "kill-leader", count: 2, unavailability: { count: 2, p50: 200, p99: 510, max: 510 }, unrecovered: 0 });
    assert.equal(report.faults.find((f) => f.label === "restart-all")?.unrecovered, 1);
    // A paused leader and a paused follower are reported apart; kinds that never happened still show.
    assert.deepEqual(
      report.faults.map((f) => f.label),
      ["kill-leader", "kill-follower", "pause-node (leader)", "isolate-leader", "wipe-follower", "restart-all", "wipe-node", "remove-add-node"],
    );
    assert.equal(report.totals.sends, 2);
    const text = formatReport(report).join("\n");
    assert.match(text, /CHAOS_SEED=7/);
    assert.match(text, /kill-leader +× +2 +unavailable p50 200 ms, p99 510 ms, max 510 ms/);
    assert.match(text, /restart-all +× +1 +unavailable none measured, 1 unrecovered/);
  });
});

describe("the fault schedule", () => {
  test("one seed always yields the same plan", () => {
    const a = new FaultSchedule(42);
    const b = new FaultSchedule(42);
    const planA = Array.from({ length: 30 }, () => a.next());
    assert.deepEqual(Array.from({ length: 30 }, () => b.next()), planA);
    const c = new FaultSchedule(43);
    assert.notDeepEqual(Array.from({ length: 30 }, () => c.next()), planA);
  });

  test("every deck plays the whole mix, in a shuffled order", () => {
    const deckSize = faultKinds.reduce((n, k) => n + defaultFaultMix[k], 0);
    const schedule = new FaultSchedule(5);
    const orders = new Set<string>();
    for (let deck = 0; deck < 4; deck++) {
      const kinds = Array.from({ length: deckSize }, () => schedule.next().kind);
      for (const k of faultKinds) assert.equal(kinds.filter((x) => x === k).length, defaultFaultMix[k], `deck ${deck}: ${k}`);
      orders.add(kinds.join(","));
    }
    assert.ok(orders.size > 1, "decks are shuffled");
  });

  test("holds stay within their ranges; pauses and isolations outlast an election timeout", () => {
    const schedule = new FaultSchedule(9);
    for (let i = 0; i < 200; i++) {
      const plan = schedule.next();
      const [min, max] = holdRangeMs[plan.kind];
      assert.ok(plan.holdMs >= min && plan.holdMs <= max, `${plan.kind} held ${plan.holdMs} ms`);
      assert.ok(plan.pick >= 0 && plan.pick < 1);
    }
    assert.ok(holdRangeMs["pause-node"][0] > 2 * 6 * 100);
    assert.ok(holdRangeMs["isolate-leader"][0] > 2 * 6 * 100);
  });

  test("a mix without faults is refused", () => {
    const none = Object.fromEntries(faultKinds.map((k) => [k, 0])) as Record<FaultKind, number>;
    assert.throws(() => new FaultSchedule(1, none), RangeError);
  });
});

describe("crashed nodes", () => {
  test("the last error or fatal line of a node's log says why it died", () => {
    const log = [
      '{"level":30,"msg":"serving"}',
      '{"level":50,"msg":"compaction write failed","err":{"message":"disk full"}}',
      "(node:1) SomeWarning: not json",
      '{"level":60,"msg":"replica loop failed","err":{"message":"raft log: compact 2003 beyond applied 1999"}}',
      '{"level":30,"msg":"shutting down"}',
    ].join("\n");
    assert.equal(lastErrorOf(log), "replica loop failed: raft log: compact 2003 beyond applied 1999");
    assert.equal(lastErrorOf('{"level":30,"msg":"fine"}\n'), undefined);
  });
});

describe("the environment switches", () => {
  test("bounded by default, soak with CHAOS_MINUTES, seed and history from the environment", () => {
    const bounded = chaosConfig({ CHAOS_SEED: "123" });
    assert.equal(bounded.mode, "bounded");
    assert.equal(bounded.seed, 123);
    assert.equal(bounded.chaosMs, boundedChaosMs);
    assert.ok(bounded.maxChaosMs > bounded.chaosMs && bounded.testTimeoutMs > bounded.maxChaosMs && bounded.testTimeoutMs <= 6 * 60_000);
    assert.match(bounded.historyPath, /raftline-chaos-123-\d+\.jsonl$/);
    const soak = chaosConfig({ CHAOS_MINUTES: "10", CHAOS_HISTORY: "/x/h.jsonl", CHAOS_SEED: "0x10" });
    assert.deepEqual([soak.mode, soak.chaosMs, soak.historyPath, soak.seed], ["soak", 600_000, "/x/h.jsonl", 16]);
    assert.ok(soak.testTimeoutMs > soak.chaosMs);
    assert.equal(soak.maxChaosMs, soak.chaosMs);
  });

  test("bad values are refused", () => {
    assert.throws(() => parseSeed("-1"), RangeError);
    assert.throws(() => parseSeed("1.5"), RangeError);
    assert.throws(() => chaosConfig({ CHAOS_MINUTES: "soon" }), RangeError);
  });
});

describe("a fault mix from the environment", () => {
  test("changes the named kinds and keeps the rest", () => {
    const mix = parseFaultMix("wipe-node=3, remove-add-node=4,kill-leader=0");
    assert.equal(mix["wipe-node"], 3);
    assert.equal(mix["remove-add-node"], 4);
    assert.equal(mix["kill-leader"], 0);
    assert.equal(mix["pause-node"], defaultFaultMix["pause-node"]);
  });

  test("unknown kinds, bad counts and an empty mix are refused", () => {
    assert.throws(() => parseFaultMix("wipe-everything=1"), /KIND=COPIES/);
    assert.throws(() => parseFaultMix("wipe-node=-1"), /KIND=COPIES/);
    const none = faultKinds.map((k) => `${k}=0`).join(",");
    assert.throws(() => parseFaultMix(none), /no fault/);
  });
});
