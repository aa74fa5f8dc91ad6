// `npm run bench -- failover [--kills N]`: how long writes stop when the raft leader goes away, on a local
// three-node cluster with a client writing one record at a time (acks QUORUM, all three brokers given).
// Two ways to lose the leader, alternating: SIGKILL (its connections reset, so the followers campaign at
// once) and SIGSTOP (silence: the followers wait out the election timeout), the second being the
// reference for the first. For each: from the signal to the first new leader's announcement, and to the
// next acknowledged write. Table on stdout, JSON in bench/results/.
import { Command } from "commander";
import { RaftlineClient } from "../src/client";
import type { ClusterNode } from "../test/support/cluster-node";
import { waitFor } from "../test/support/wait";
import { BenchCluster } from "./broker-cluster";
import { percentile } from "./broker-stats";
import { machineFacts, median, printTable, writeResults } from "./report";

type Loss = "SIGKILL" | "SIGSTOP";

export interface Sample {
  loss: Loss;
  electedMs: number;
  nextAckMs: number;
}

const deadlineMs = 30_000;
/** A call to the stopped leader hangs until its deadline: kept short so the silence row shows the election. */
const requestTimeoutMs = 2000;
const topic = "failover";

function parse(argv: string[]): { kills: number } {
  const o = new Command("bench failover")
    .option("--kills <n>", "leader losses of each kind", "30")
    .parse(argv, { from: "user" })
    .opts<{ kills: string }>();
  const kills = Number(o.kills);
  if (!Number.isInteger(kills) || kills < 1) throw new RangeError("--kills must be a positive integer");
  return { kills };
}

/** Writes one record at a time for as long as it runs; remembers when each acknowledgement arrived. */
class SteadyWriter {
  private acks: number[] = [];
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(client: RaftlineClient) {
    const producer = client.producer({ lingerMs: 0, requestTimeoutMs });
    const value = Buffer.alloc(100, 120);
    this.done = (async () => {
      while (!this.stopped) {
        try {
          await producer.send({ topic, partition: 0, records: [{ value }] });
          this.acks.push(performance.now());
        } catch {
          // The retry budget ran out mid-outage; the next send starts a fresh one.
        }
      }
      await producer.close();
    })();
  }

  /** The first acknowledgement that arrived after `sinceMs`. */
  firstAckAfter(sinceMs: number): number | undefined {
    return this.acks.find((t) => t > sinceMs);
  }

  forgetBefore(ms: number): void {
    this.acks = this.acks.filter((t) => t >= ms);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

async function loseLeader(cluster: BenchCluster, writer: SteadyWriter, loss: Loss): Promise<Sample> {
  const leaderId = await cluster.waitForLeader(deadlineMs);
  const leader = cluster.node(leaderId);
  const others = cluster.nodes.filter((n) => n.id !== leaderId);
  // Wait for a write under this leader, so that the clock starts from a cluster that is serving.
  const settled = performance.now();
  await waitFor(() => writer.firstAckAfter(settled) !== undefined, deadlineMs, "a write under the current leader", 5);
  for (const n of others) n.leaderTerm = 0;
  const lostAt = performance.now();
  leader.signal(loss);
  writer.forgetBefore(lostAt);
  const electedAt = await waitFor(() => (others.some((n: ClusterNode) => n.leaderTerm > 0) ? performance.now() : 0), deadlineMs, "a new leader", 1);
  const ackAt = await waitFor(() => writer.firstAckAfter(lostAt) ?? 0, deadlineMs, "the next acknowledged write", 1);
  if (loss === "SIGKILL") {
    await leader.waitExit(deadlineMs);
    leader.start();
    await leader.waitServing(deadlineMs);
  } else {
    leader.signal("SIGCONT");
  }
  await cluster.waitForLeader(deadlineMs);
  return { loss, electedMs: electedAt - lostAt, nextAckMs: ackAt - lostAt };
}

export interface FailoverRow {
  loss: Loss;
  kills: number;
  electedP50Ms: number;
  electedP99Ms: number;
  nextAckP50Ms: number;
  nextAckP99Ms: number;
}

/** `kills` leader losses of each kind on a fresh three-node cluster, alternating, summarized per kind. */
export async function measureFailover(kills: number, log: (line: string) => void): Promise<{ rows: FailoverRow[]; samples: Sample[] }> {
  const cluster = await BenchCluster.start();
  const samples: Sample[] = [];
  try {
    await cluster.waitForLeader(deadlineMs);
    const client = new RaftlineClient({ brokers: cluster.nodes.map((n) => n.clientAddress), clientId: "bench-failover", requestTimeoutMs });
    await client.admin().createTopic({ name: topic, partitions: 1 });
    const writer = new SteadyWriter(client);
    try {
      for (let i = 0; i < kills; i++) {
        for (const loss of ["SIGKILL", "SIGSTOP"] as const) {
          const sample = await loseLeader(cluster, writer, loss);
          samples.push(sample);
          log(`${loss} ${i + 1}/${kills}: elected ${sample.electedMs.toFixed(0)} ms, next ack ${sample.nextAckMs.toFixed(0)} ms`);
        }
      }
    } finally {
      await writer.stop();
      await client.close();
    }
  } finally {
    await cluster.cleanup();
  }
  const rows = (["SIGKILL", "SIGSTOP"] as const).map((loss) => {
    const of = samples.filter((s) => s.loss === loss);
    const elected = of.map((s) => s.electedMs);
    const acked = of.map((s) => s.nextAckMs);
    return {
      loss,
      kills: of.length,
      electedP50Ms: median(elected),
      electedP99Ms: percentile(elected, 99),
      nextAckP50Ms: median(acked),
      nextAckP99Ms: percentile(acked, 99),
    };
  });
  return { rows, samples };
}

export function printFailoverTable(rows: FailoverRow[]): void {
  printTable(
    "failover: leader lost -> new leader announced, -> next acknowledged write (ms)",
    ["loss", "kills", "elected p50", "elected p99", "next ack p50", "next ack p99"],
    rows.map((r) => [r.loss, r.kills, Math.round(r.electedP50Ms), Math.round(r.electedP99Ms), Math.round(r.nextAckP50Ms), Math.round(r.nextAckP99Ms)]),
  );
  const [reset, silence] = rows;
  console.log(`p50 reset vs silence: elected ${(reset.electedP50Ms / silence.electedP50Ms).toFixed(2)}x, next ack ${(reset.nextAckP50Ms / silence.nextAckP50Ms).toFixed(2)}x`);
}

export async function runFailoverBench(argv: string[]): Promise<void> {
  const { kills } = parse(argv);
  const { rows, samples } = await measureFailover(kills, (line) => process.stderr.write(`${line}\n`));
  printFailoverTable(rows);
  console.log(`results: ${writeResults("failover", { machine: machineFacts(), rows, samples })}`);
}
