// Raft core throughput: three RawNodes in one process on an instant network, without a disk. The Ready
// protocol is still followed to the letter — persist (nothing to write here), send, apply, advance — so
// what is measured is the core's own cost per committed entry. 100-byte entries are proposed in batches
// of 1, 100 and 1,000, one batch per replication round, and counted as the leader applies them.
//   npm run bench -- raft-core [--runs=5] [--duration-ms=1000] [--batches=1,100,1000]
import { performance } from "node:perf_hooks";
import { ConfState, Message, MessageType, RaftConfig, RawNode, Ready, Role } from "../src/raft";
import { machineFacts, median, printTable, writeResults } from "./report";
import { seededRandom } from "../test/support/seeded-random";

const entryBytes = 100;
/** Distinct payloads cycled through, so that proposals do not all share one buffer. */
const payloadPoolSize = 4096;
/** Each node compacts its log once this many applied entries sit in it: memory stays bounded. */
const compactEveryEntries = 20_000;
/** Bound on message deliveries while settling one round; more means the cluster does not settle. */
const maxDeliveriesPerRound = 100_000;
const bytesPerMB = 1_000_000;

const raftConfig: Omit<RaftConfig, "id"> = {
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  maxMsgBytes: 1 << 20,
  maxInflightMsgs: 256,
  maxUncommittedBytes: 64 << 20,
  learnerCatchUpEntries: 1000,
};

interface Options {
  runs: number;
  durationMs: number;
  batches: number[];
}

interface BatchResult {
  batchEntries: number;
  runsEntriesPerSec: number[];
  medianEntriesPerSec: number;
  medianMBPerSec: number;
}

export function runRaftCoreBench(args: string[]): void {
  const options = parseOptions(args);
  const payloads = Array.from({ length: payloadPoolSize }, (_, k) => new Uint8Array(entryBytes).fill(k & 0xff));
  measure(options.batches[options.batches.length - 1], Math.min(options.durationMs, 300), payloads); // warm-up
  const results: BatchResult[] = options.batches.map((batch) => {
    const runsEntriesPerSec = Array.from({ length: options.runs }, () => measure(batch, options.durationMs, payloads));
    const medianEntriesPerSec = median(runsEntriesPerSec);
    return { batchEntries: batch, runsEntriesPerSec, medianEntriesPerSec, medianMBPerSec: (medianEntriesPerSec * entryBytes) / bytesPerMB };
  });
  printTable(
    `raft-core: 3 in-process nodes, instant network, no disk, ${entryBytes}-byte entries; median of ${options.runs} runs of ${options.durationMs} ms`,
    ["batch", "committed entries/s", "MB/s", "runs (entries/s)"],
    results.map((r) => [
      String(r.batchEntries),
      Math.round(r.medianEntriesPerSec),
      r.medianMBPerSec,
      r.runsEntriesPerSec.map((v) => Math.round(v / 1000) + "k").join(" "),
    ]),
  );
  const path = writeResults("raft-core", {
    bench: "raft-core",
    at: new Date().toISOString(),
    machine: machineFacts(),
    entryBytes,
    runDurationMs: options.durationMs,
    runs: options.runs,
    results,
  });
  console.log(`results written to ${path}`);
}

/** One run: a fresh cluster commits batches for `durationMs`; returns committed entries per second. */
function measure(batch: number, durationMs: number, payloads: readonly Uint8Array[]): number {
  const cluster = new InstantCluster(3);
  cluster.electFirst();
  let next = 0;
  const startMs = performance.now();
  const committedBefore = cluster.committedAtLeader;
  let elapsedMs = 0;
  while (elapsedMs < durationMs) {
    const data = new Array<Uint8Array>(batch);
    for (let k = 0; k < batch; k++) data[k] = payloads[next++ % payloadPoolSize];
    const result = cluster.leader.propose(data);
    if (!result.ok) throw new Error(`proposal refused: ${result.code} ${result.message}`);
    cluster.settle();
    elapsedMs = performance.now() - startMs;
  }
  return ((cluster.committedAtLeader - committedBefore) * 1000) / elapsedMs;
}

/** Three RawNodes whose messages arrive the moment they are sent, in order. */
class InstantCluster {
  readonly nodes: RawNode[];
  private readonly applied: number[];
  private readonly compacted: number[];
  private queue: Message[] = [];
  committedAtLeader = 0;

  constructor(size: number) {
    const conf: ConfState = { voters: Array.from({ length: size }, (_, k) => k + 1), learners: [] };
    this.nodes = conf.voters.map(
      (id) =>
        new RawNode(
          { ...raftConfig, id },
          { hardState: { term: 0, vote: 0, commit: 0 }, snapshot: { index: 0, term: 0, conf }, entries: [], applied: 0, conf },
          seededRandom(id),
        ),
    );
    this.applied = this.nodes.map(() => 0);
    this.compacted = this.nodes.map(() => 0);
  }

  get leader(): RawNode {
    return this.nodes[0];
  }

  electFirst(): void {
    this.leader.campaign();
    this.settle();
    if (this.leader.status().role !== Role.Leader) throw new Error("node 1 did not win the election");
  }

  /** Drains every Ready and delivers every message until the cluster is quiet. */
  settle(): void {
    let deliveries = 0;
    for (;;) {
      for (let k = 0; k < this.nodes.length; k++) this.handleReady(k);
      if (this.queue.length === 0) return;
      const batch = this.queue;
      this.queue = [];
      for (const msg of batch) this.nodes[msg.to - 1].step(msg);
      deliveries += batch.length;
      if (deliveries > maxDeliveriesPerRound) throw new Error(`the cluster did not settle after ${deliveries} deliveries`);
    }
  }

  private handleReady(k: number): void {
    const node = this.nodes[k];
    while (node.hasReady()) {
      const rd = node.ready();
      // Persisting is free here: there is no disk. The order below is still the contract's.
      for (const msg of rd.messages) {
        if (msg.type === MessageType.Snap) throw new Error("no follower should fall behind the leader's log here");
        this.queue.push(msg);
      }
      this.apply(k, rd);
      node.advance(rd);
    }
    if (this.applied[k] - this.compacted[k] >= compactEveryEntries) {
      node.compact(this.applied[k]);
      this.compacted[k] = this.applied[k];
    }
  }

  private apply(k: number, rd: Ready): void {
    const entries = rd.committedEntries;
    if (entries.length === 0) return;
    this.applied[k] = entries[entries.length - 1].index;
    if (k !== 0) return;
    for (const e of entries) if (e.data.length === entryBytes) this.committedAtLeader++;
  }
}


function parseOptions(args: string[]): Options {
  const options: Options = { runs: 5, durationMs: 1000, batches: [1, 100, 1000] };
  for (const arg of args) {
    const [key, value] = arg.replace(/^--/, "").split("=");
    if (key === "runs") options.runs = positiveInt(key, value);
    else if (key === "duration-ms") options.durationMs = positiveInt(key, value);
    else if (key === "batches") options.batches = (value ?? "").split(",").map((v) => positiveInt(key, v));
    else throw new RangeError(`unknown option ${arg} (known: --runs=N --duration-ms=N --batches=1,100,1000)`);
  }
  return options;
}

function positiveInt(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`--${name} must be a positive integer, got ${value}`);
  return n;
}
