// `npm run bench -- groups`: consumer groups on a local three-node cluster. (1) End-to-end group
// consumption throughput: 1, 3 and 6 members reading a six-partition topic of pre-produced 100 B and
// 1 KiB records, from joining until the last record was handled. (2) Rebalance times, as medians over
// repeats: a member joins, leaves, vanishes (session expiry), a static member returns, the raft leader
// is killed. Kafka's defaults are printed beside them for context. Table on stdout, JSON in bench/results/.
import { Command } from "commander";
import { RaftlineClient } from "../src/client";
import { RawMember, RecordingMember } from "../test/support/group-members";
import { rawStubs } from "../test/support/raw-stubs";
import { waitFor } from "../test/support/wait";
import { BenchCluster } from "./broker-cluster";
import { machineFacts, median, printTable, writeResults } from "./report";

interface GroupsOptions {
  records: number;
  repeats: number;
  sessionTimeoutMs: number;
}

const partitions = 6;
const sendRecords = 500;
const deadlineMs = 120_000;

function parse(argv: string[]): GroupsOptions {
  const o = new Command("bench groups")
    .option("--records <n>", "records per throughput run of 100 B records (half as many of 1 KiB)", "200000")
    .option("--repeats <n>", "repeats of each rebalance measurement", "5")
    .option("--session-timeout-ms <n>", "members' session timeout", "3000")
    .parse(argv, { from: "user" })
    .opts<{ records: string; repeats: string; sessionTimeoutMs: string }>();
  return { records: Number(o.records), repeats: Number(o.repeats), sessionTimeoutMs: Number(o.sessionTimeoutMs) };
}

let topicSeq = 0;

async function freshTopic(client: RaftlineClient, prefix: string): Promise<string> {
  const name = `${prefix}-${topicSeq++}`;
  await client.admin().createTopic({ name, partitions });
  return name;
}

async function fill(client: RaftlineClient, topic: string, records: number, bytes: number): Promise<void> {
  const producer = client.producer();
  const value = Buffer.alloc(bytes, 120);
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < records; i += sendRecords) {
    const n = Math.min(sendRecords, records - i);
    sends.push(producer.send({ topic, partition: (i / sendRecords) % partitions, records: Array.from({ length: n }, () => ({ value })) }));
    if (sends.length >= 16) await Promise.all(sends.splice(0));
  }
  await Promise.all(sends);
  await producer.close();
}

interface ThroughputRow {
  members: number;
  recordBytes: number;
  records: number;
  seconds: number;
  recordsPerSecond: number;
  mbPerSecond: number;
}

async function throughput(client: RaftlineClient, o: GroupsOptions, members: number, recordBytes: number): Promise<ThroughputRow> {
  const records = recordBytes >= 1024 ? Math.floor(o.records / 2) : o.records;
  const topic = await freshTopic(client, "tput");
  await fill(client, topic, records, recordBytes);
  let handled = 0;
  const started = performance.now();
  const group = Array.from({ length: members }, () => {
    const m = client.consumer({ groupId: `g-${topic}`, sessionTimeoutMs: o.sessionTimeoutMs });
    m.subscribe({ topics: [topic] });
    const running = m.run({
      eachBatch: (b) => {
        handled += b.records.length;
      },
    });
    return { m, running };
  });
  await waitFor(() => handled >= records, deadlineMs, `${records} records handled`, 5);
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(group.map(async (g) => {
    await g.m.close();
    await g.running;
  }));
  return { members, recordBytes, records, seconds, recordsPerSecond: records / seconds, mbPerSecond: (records * recordBytes) / seconds / 1e6 };
}

type Measure = (client: RaftlineClient, cluster: BenchCluster, o: GroupsOptions) => Promise<number>;

function member(client: RaftlineClient, o: GroupsOptions, groupId: string, topic: string, instanceId?: string): RecordingMember {
  return new RecordingMember(client, { groupId, sessionTimeoutMs: o.sessionTimeoutMs, ...(instanceId ? { instanceId } : {}) }, [topic]).start();
}

async function stableGroup(client: RaftlineClient, o: GroupsOptions, count: number, instanceIds: (string | undefined)[] = []): Promise<{ topic: string; members: RecordingMember[] }> {
  const topic = await freshTopic(client, "rebalance");
  const members = Array.from({ length: count }, (_, i) => member(client, o, `g-${topic}`, topic, instanceIds[i]));
  await waitFor(() => members.reduce((n, m) => n + m.owned().length, 0) === partitions && members.every((m) => m.owned().length > 0), deadlineMs, "a stable group", 5);
  return { topic, members };
}

const owningAll = (members: RecordingMember[]): boolean => members.reduce((n, m) => n + m.owned().length, 0) === partitions;

const measures: Record<string, Measure> = {
  // From a third member's start until it reads its share.
  join: async (client, _cluster, o) => {
    const { topic, members } = await stableGroup(client, o, 2);
    const started = performance.now();
    const joiner = member(client, o, `g-${topic}`, topic);
    await waitFor(() => joiner.owned().length === 2 && owningAll([...members, joiner]), deadlineMs, "the joiner's share", 5);
    const ms = performance.now() - started;
    await Promise.all([...members, joiner].map((m) => m.close()));
    return ms;
  },
  // From close() until the others read everything.
  leave: async (client, _cluster, o) => {
    const { members } = await stableGroup(client, o, 3);
    const started = performance.now();
    await members[0].close();
    await waitFor(() => owningAll(members.slice(1)), deadlineMs, "the leaver's partitions to move", 5);
    const ms = performance.now() - started;
    await Promise.all(members.slice(1).map((m) => m.close()));
    return ms;
  },
  // A member vanishes without leaving: until the others read everything (includes the session timeout).
  crash: async (client, cluster, o) => {
    const { topic, members } = await stableGroup(client, o, 2);
    const leader = await cluster.waitForLeader(deadlineMs);
    const stubs = rawStubs(cluster.node(leader).clientAddress);
    const raw = new RawMember(stubs, { groupId: `g-${topic}`, topics: [topic], sessionTimeoutMs: o.sessionTimeoutMs, clientId: "raw" }, Math.floor(o.sessionTimeoutMs / 3));
    await waitFor(() => (raw.latest?.assigned.length ?? 0) > 0 && members.every((m) => m.owned().length === 2), deadlineMs, "the raw member's share", 5);
    const started = performance.now();
    raw.vanish();
    await waitFor(() => owningAll(members), deadlineMs, "the vanished member's partitions to move", 5);
    const ms = performance.now() - started;
    stubs.close();
    await Promise.all(members.map((m) => m.close()));
    return ms;
  },
  // A static member closes and a new one with its instance id starts: until it reads its partitions again.
  "static return": async (client, _cluster, o) => {
    const { topic, members } = await stableGroup(client, o, 3, ["static-a"]);
    const owned = members[0].owned();
    await members[0].close();
    const started = performance.now();
    const back = member(client, o, `g-${topic}`, topic, "static-a");
    await waitFor(() => back.owned().join() === owned.join(), deadlineMs, "the static member's partitions", 5);
    const ms = performance.now() - started;
    await Promise.all([back, ...members.slice(1)].map((m) => m.close()));
    return ms;
  },
  // SIGKILL the raft leader: until every member's session is back (the longest pause they report).
  "leader kill": async (client, cluster, o) => {
    const { members } = await stableGroup(client, o, 3);
    const leader = await cluster.waitForLeader(deadlineMs);
    const node = cluster.node(leader);
    node.signal("SIGKILL");
    await node.waitExit(10_000);
    await waitFor(() => members.every((m) => m.pauses.length > 0), deadlineMs, "every member to rejoin", 5);
    const ms = Math.max(...members.map((m) => m.pauses[0]));
    await Promise.all(members.map((m) => m.close()));
    node.start();
    await node.waitServing(30_000);
    await cluster.waitForLeader(deadlineMs);
    return ms;
  },
};

const kafkaContext: [string, string][] = [
  ["session.timeout.ms", "45000 (Kafka 3.0+; 10000 before)"],
  ["heartbeat.interval.ms", "3000"],
  ["group.initial.rebalance.delay.ms", "3000 (a new group waits this long before its first rebalance)"],
  ["max.poll.interval.ms", "300000"],
  ["auto.commit.interval.ms", "5000"],
  ["partition.assignment.strategy", "[range, cooperative-sticky] (3.0+)"],
];

export async function runGroupsBench(argv: string[]): Promise<void> {
  const o = parse(argv);
  const cluster = await BenchCluster.start();
  const clients: RaftlineClient[] = [];
  try {
    await cluster.waitForLeader(30_000);
    const client = new RaftlineClient({ brokers: cluster.nodes.map((n) => n.clientAddress), clientId: "bench-groups" });
    clients.push(client);
    const rows: ThroughputRow[] = [];
    for (const recordBytes of [100, 1024]) for (const members of [1, 3, 6]) rows.push(await throughput(client, o, members, recordBytes));
    printTable(
      `group consumption, ${partitions} partitions, eachBatch, from join to the last record handled`,
      ["members", "record bytes", "records", "seconds", "records/s", "MB/s"],
      rows.map((r) => [r.members, r.recordBytes, r.records, r.seconds, Math.round(r.recordsPerSecond), r.mbPerSecond]),
    );
    const rebalances: { event: string; samplesMs: number[]; medianMs: number }[] = [];
    for (const [event, measure] of Object.entries(measures)) {
      const samplesMs: number[] = [];
      for (let i = 0; i < o.repeats; i++) samplesMs.push(await measure(client, cluster, o));
      rebalances.push({ event, samplesMs, medianMs: median(samplesMs) });
    }
    console.log("");
    printTable(
      `rebalance times (session timeout ${o.sessionTimeoutMs} ms, median of ${o.repeats})`,
      ["event", "median ms", "min ms", "max ms"],
      rebalances.map((r) => [r.event, r.medianMs, Math.min(...r.samplesMs), Math.max(...r.samplesMs)]),
    );
    console.log("");
    printTable("Kafka consumer-group defaults, for context", ["setting", "default"], kafkaContext);
    const path = writeResults("groups", { machine: machineFacts(), options: o, throughput: rows, rebalances, kafkaContext });
    console.log(`\nresults: ${path}`);
  } finally {
    await Promise.all(clients.map((c) => c.close({ flush: false })));
    await cluster.cleanup();
  }
}
