// What the disk-fault tests watch on a damaged node and its cluster: a producer that writes on while the
// node is repaired and keeps what was acknowledged, the node's own damage reports and moved-aside
// directories, and a wait until the node votes again and serves every acknowledged record. The harness's
// own calls connect with the suite's connection defaults (the superuser over TLS when security is on).
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { basename, dirname } from "node:path";
import * as grpc from "@grpc/grpc-js";
import type { RaftlineClient } from "../../src/client";
import type { ConsumedRecord__Output } from "../../src/generated/raftline/v1/ConsumedRecord";
import type { DescribeClusterResponse__Output } from "../../src/generated/raftline/v1/DescribeClusterResponse";
import type { FetchResponse__Output } from "../../src/generated/raftline/v1/FetchResponse";
import type { Cluster } from "./cluster";
import { rawStubs, unaryCall } from "./raw-stubs";
import { waitFor } from "./wait";

/** Found in every value the producer writes, so that tests can damage exactly the stored records. */
export const recordMarker = "DISKMARK";
export const repairDeadlineMs = 60000;
/** Generous: the machine may be busy with other work. */
const progressDeadlineMs = 60000;
/** Large enough values that a 1 MiB memtable spills into table files within a test. */
const padding = "x".repeat(4000);

/** The values (without padding) of partition 0 of `topic` on one node, read from offset 0 to its end. */
export async function readAll(address: string, topic: string): Promise<string[]> {
  const stubs = rawStubs(address);
  try {
    const out: ConsumedRecord__Output[] = [];
    for (;;) {
      const res = await unaryCall<FetchResponse__Output>((opts, cb) =>
        stubs.consumer.Fetch({ topic, partition: 0, offset: out.length }, new grpc.Metadata(), opts, cb),
      );
      out.push(...res.records);
      if (res.records.length === 0 || out.length >= Number(res.highWatermark)) return out.map((r) => r.value.toString().split("|")[0]);
    }
  } finally {
    stubs.close();
  }
}

/** Writes one record at a time to partition 0 until stopped; keeps what was acknowledged, in offset order. */
export class SteadyProducer {
  readonly acked: string[] = [];
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(client: RaftlineClient, topic: string) {
    const producer = client.producer({ lingerMs: 0 });
    this.done = (async () => {
      for (let i = 0; !this.stopped; i++) {
        const value = `${recordMarker}-${i}`;
        const [meta] = await producer.send({ topic, partition: 0, records: [{ value: `${value}|${padding}` }] });
        assert.equal(meta.offset, this.acked.length, "offsets are dense and in order");
        this.acked.push(value);
      }
      await producer.close();
    })();
  }

  async progress(n: number): Promise<void> {
    const target = this.acked.length + n;
    await waitFor(() => this.acked.length >= target, progressDeadlineMs, `${n} more acknowledged writes`);
  }

  async stop(): Promise<string[]> {
    this.stopped = true;
    await this.done;
    return this.acked;
  }
}

/** How many lines of the node's log match `text`. */
export function logLines(cluster: Cluster, id: number, text: string): number {
  return readFileSync(cluster.node(id).logPath, "utf8").split("\n").filter((l) => l.includes(text)).length;
}

export function damageReports(cluster: Cluster, id: number): number {
  return logLines(cluster, id, "stored data is damaged");
}

export function asideDirs(cluster: Cluster, id: number): string[] {
  const dir = cluster.node(id).dataDir;
  return readdirSync(dirname(dir)).filter((n) => n.startsWith(`${basename(dir)}.damaged-`));
}

async function selfView(address: string, id: number): Promise<{ damage: string; voter: boolean } | undefined> {
  const stubs = rawStubs(address);
  try {
    const res = await unaryCall<DescribeClusterResponse__Output>((opts, cb) => stubs.admin.DescribeCluster({}, new grpc.Metadata(), opts, cb), 2000);
    const own = res.nodes.find((n) => n.id === id);
    return own && { damage: own.storageDamage, voter: own.voter };
  } finally {
    stubs.close();
  }
}

/** Waits until the node reports no damage, votes again, and serves every record acknowledged so far. */
export async function waitRepaired(cluster: Cluster, id: number, topic: string, producer: SteadyProducer): Promise<void> {
  const address = cluster.node(id).clientAddress;
  let last = "";
  await waitFor(
    async () => {
      const view = await selfView(address, id);
      last = JSON.stringify(view);
      if (view === undefined || view.damage !== "" || !view.voter) return false;
      const expected = producer.acked.slice();
      const records = await readAll(address, topic);
      last = `${records.length} records read, ${expected.length} acknowledged`;
      return records.length >= expected.length && expected.every((v, i) => records[i] === v);
    },
    repairDeadlineMs,
    `node ${id} to be repaired and serve every acknowledged record`,
  ).catch((err: Error) => {
    throw new Error(`${err.message} (last: ${last})\n${cluster.logTails()}`);
  });
}
