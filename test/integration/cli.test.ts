// The `raftline` command against a live cluster: a file produced line by line and consumed back comes
// out byte for byte; keys, headers and JSON output; exit codes; consumer groups (consume --group and the
// group commands).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cluster, cliPath, startCluster } from "../support/cluster";
import { waitFor } from "../support/wait";

const commandDeadlineMs = 60000;

let cluster: Cluster;
let dir: string;

before(async () => {
  cluster = await startCluster({ cleanupAfter: false });
  await cluster.waitForLeader(20000);
  dir = mkdtempSync(join(tmpdir(), "raftline-cli-"));
});
after(async () => {
  await cluster.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Starts the command; `done` resolves when it exits. */
function startRaftline(args: string[], options: { stdinFile?: string; brokers?: string } = {}): { child: ChildProcess; done: Promise<Run> } {
  const stdin = options.stdinFile ? openSync(options.stdinFile, "r") : "ignore";
  const env = { ...process.env, RAFTLINE_BROKERS: options.brokers ?? cluster.brokers.join(",") };
  const child = spawn(process.execPath, [cliPath, ...args], { stdio: [stdin, "pipe", "pipe"], env, timeout: commandDeadlineMs });
  if (typeof stdin === "number") closeSync(stdin);
  const out: Buffer[] = [];
  let err = "";
  child.stdout?.on("data", (b: Buffer) => out.push(b));
  child.stderr?.on("data", (b: Buffer) => (err += b.toString()));
  const done = new Promise<Run>((resolve) => child.on("close", (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err })));
  return { child, done };
}

function raftline(args: string[], options: { stdinFile?: string; brokers?: string } = {}): Promise<Run> {
  return startRaftline(args, options).done;
}

function ok(run: Run, what: string): Run {
  assert.equal(run.code, 0, `${what} exited ${run.code}: ${run.stderr}`);
  return run;
}

test("produce < file, then consume --count N > out, round-trips the file byte for byte", async () => {
  const lines: Buffer[] = [];
  for (let i = 0; i < 3000; i++) {
    if (i % 500 === 7) lines.push(Buffer.alloc(0));
    else if (i % 3 === 0) lines.push(Buffer.from(`line ${i}: naïve café ✓\r`));
    else if (i % 3 === 1) lines.push(Buffer.from([0x00, 0xff, 0xfe, 0x80 + (i % 100), 0x0d, 0x09]));
    else lines.push(Buffer.from(`{"n":${i},"text":"plain = ascii"}`));
  }
  const content = Buffer.concat(lines.flatMap((l) => [l, Buffer.from("\n")]));
  const file = join(dir, "input.bin");
  writeFileSync(file, content);

  ok(await raftline(["topic", "create", "roundtrip"]), "topic create");
  const produced = ok(await raftline(["produce", "roundtrip"], { stdinFile: file }), "produce");
  assert.match(produced.stderr, /produced 3000 records to roundtrip/);
  assert.equal(produced.stdout.length, 0, "nothing on stdout, and no progress line when stderr is not a terminal");
  const consumed = ok(await raftline(["consume", "roundtrip", "--count", "3000"]), "consume");
  assert.ok(consumed.stdout.equals(content), `consumed ${consumed.stdout.length} bytes, produced ${content.length}`);

  const described = ok(await raftline(["topic", "describe", "roundtrip", "--json"]), "topic describe");
  assert.equal(JSON.parse(described.stdout.toString()).partitions[0].highWatermark, 3000);
});

test("keys, headers and JSON lines (binary as base64); consume without --count stops at the end", async () => {
  const file = join(dir, "keyed.txt");
  writeFileSync(file, "k1|hello\nk2|wörld\nno key here\n");
  ok(await raftline(["topic", "create", "keyed", "--partitions", "1"]), "topic create");
  ok(await raftline(["produce", "keyed", "--key-separator", "|", "--header", "source=test", "--header", "n=1"], { stdinFile: file }), "produce");
  const kv = ok(await raftline(["consume", "keyed", "--format", "kv", "--key-separator", "="]), "consume kv");
  assert.equal(kv.stdout.toString(), "k1=hello\nk2=wörld\n=no key here\n");
  const json = ok(await raftline(["consume", "keyed", "--format", "json", "--offset", "1"]), "consume json");
  const records = json.stdout.toString().trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    records.map((r) => [r.offset, r.key, r.value]),
    [
      [1, "k2", "wörld"],
      [2, null, "no key here"],
    ],
  );
  assert.deepEqual(records[0].headers, [
    { key: "source", value: "test" },
    { key: "n", value: "1" },
  ]);

  const binary = join(dir, "binary.bin");
  writeFileSync(binary, Buffer.from([0xff, 0x00, 0x0a]));
  ok(await raftline(["produce", "keyed", "--no-idempotent", "--acks", "leader"], { stdinFile: binary }), "produce binary");
  const last = ok(await raftline(["consume", "keyed", "--format", "json", "--offset", "3", "--count", "1"]), "consume binary");
  assert.equal(JSON.parse(last.stdout.toString()).valueBase64, Buffer.from([0xff, 0x00]).toString("base64"));
});

test("cluster status lists the nodes and the leader", async () => {
  const status = ok(await raftline(["cluster", "status", "--json"]), "cluster status");
  const c = JSON.parse(status.stdout.toString()) as { leaderId: number; nodes: { id: number; role: string }[] };
  assert.equal(c.nodes.length, 3);
  assert.equal(c.nodes.find((n) => n.id === c.leaderId)?.role, "NODE_ROLE_LEADER");
  const table = ok(await raftline(["cluster", "status"]), "cluster status table").stdout.toString();
  assert.match(table, new RegExp(`leader: node ${c.leaderId}`));
});

test("cluster membership commands: refusals name their reason and change nothing; a missing --id is bad usage", async () => {
  const unknown = await raftline(["cluster", "remove-node", "--id", "9"]);
  assert.equal(unknown.code, 1, unknown.stderr);
  assert.match(unknown.stderr, /NOT_FOUND/);
  assert.match(unknown.stderr, /UNKNOWN_NODE/);
  const taken = await raftline(["cluster", "add-node", "--id", "1", "--client", cluster.node(1).clientAddress, "--peer", cluster.node(1).peerAddress]);
  assert.equal(taken.code, 1, taken.stderr);
  assert.match(taken.stderr, /NODE_EXISTS/);
  const noId = await raftline(["cluster", "replace-node"]);
  assert.equal(noId.code, 2, noId.stderr);
  const status = ok(await raftline(["cluster", "status", "--json"]), "cluster status");
  const c = JSON.parse(status.stdout.toString()) as { nodes: { id: number; voter: boolean }[] };
  assert.deepEqual(c.nodes.map((n) => [n.id, n.voter]), [[1, true], [2, true], [3, true]]);
  const table = ok(await raftline(["cluster", "status"]), "cluster status table").stdout.toString();
  assert.match(table, /VOTER/);
});

test("exit codes: 1 refused by the cluster, 2 bad usage, 3 no broker reachable", async () => {
  const missing = await raftline(["topic", "describe", "no-such-topic"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /NOT_FOUND/);
  const usage = await raftline(["consume", "x", "--format", "yaml"]);
  assert.equal(usage.code, 2, usage.stderr);
  const unreachable = await raftline(["topic", "list"], { brokers: "127.0.0.1:1" });
  assert.equal(unreachable.code, 3, unreachable.stderr);
  const help = await raftline(["produce", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout.toString(), /--key-separator/);
});

interface DescribedGroup {
  state: string;
  members: { memberId: string }[];
  partitions: { partition: number; committedOffset: number; highWatermark: number; lag: number }[];
}

async function describeGroup(group: string): Promise<DescribedGroup> {
  return JSON.parse(ok(await raftline(["group", "describe", group, "--json"]), "group describe").stdout.toString()) as DescribedGroup;
}

function lines(run: Run): string[] {
  return run.stdout.toString().split("\n").filter((l) => l.length > 0);
}

test("consumer groups: consume --group commits what it printed; describe shows the lag; reset-offsets (dry run first) re-reads; delete", async () => {
  const file = join(dir, "grouped.txt");
  writeFileSync(file, Array.from({ length: 20 }, (_, i) => `k${i}|v${i}`).join("\n") + "\n");
  ok(await raftline(["topic", "create", "grouped", "--partitions", "2"]), "topic create");
  ok(await raftline(["produce", "grouped", "-K", "|"], { stdinFile: file }), "produce");

  // A first member reads everything there is and stops; its offsets are committed.
  const first = ok(await raftline(["consume", "grouped", "--group", "readers", "--format", "kv", "-K", "|"]), "consume --group");
  assert.deepEqual(lines(first).sort(), Array.from({ length: 20 }, (_, i) => `k${i}|v${i}`).sort());
  let d = await describeGroup("readers");
  assert.equal(d.state, "GROUP_STATE_EMPTY", "the member left when it stopped");
  assert.deepEqual(d.partitions.map((p) => [p.committedOffset, p.lag]), d.partitions.map((p) => [p.highWatermark, 0]));
  assert.equal(d.partitions.reduce((n, p) => n + p.committedOffset, 0), 20);
  const table = ok(await raftline(["group", "describe", "readers"]), "group describe").stdout.toString();
  assert.match(table, /group readers: EMPTY/);
  assert.match(table, /COMMITTED +LOG START +HIGH WATERMARK +LAG/);
  const listed = JSON.parse(ok(await raftline(["group", "list", "--json"]), "group list").stdout.toString()) as { groupId: string }[];
  assert.ok(listed.some((g) => g.groupId === "readers"));

  // Nothing new: a second run prints nothing and ends.
  assert.equal(ok(await raftline(["consume", "grouped", "--group", "readers"]), "consume --group at the end").stdout.length, 0);

  // Five more records are the group's lag; --count takes two of them and commits just those.
  writeFileSync(file, Array.from({ length: 5 }, (_, i) => `more${i}`).join("\n") + "\n");
  ok(await raftline(["produce", "grouped"], { stdinFile: file }), "produce more");
  d = await describeGroup("readers");
  assert.equal(d.partitions.reduce((n, p) => n + p.lag, 0), 5);
  assert.equal(lines(ok(await raftline(["consume", "grouped", "--group", "readers", "--count", "2"]), "consume --count")).length, 2);
  assert.equal((await describeGroup("readers")).partitions.reduce((n, p) => n + p.lag, 0), 3);

  // A dry run shows the offsets it would set and changes nothing.
  const before = (await describeGroup("readers")).partitions.map((p) => p.committedOffset);
  const dry = ok(await raftline(["group", "reset-offsets", "readers", "--topic", "grouped", "--to", "earliest", "--dry-run"]), "reset --dry-run");
  assert.match(dry.stdout.toString(), /dry run: would move 2 of 2 partitions of grouped; nothing changed/);
  assert.deepEqual((await describeGroup("readers")).partitions.map((p) => p.committedOffset), before);

  // While a member is in the group, offsets do not move.
  const member = startRaftline(["consume", "grouped", "--group", "readers", "--follow"]);
  await waitFor(async () => (await describeGroup("readers")).members.length === 1, commandDeadlineMs, "the --follow member to join");
  const refused = await raftline(["group", "reset-offsets", "readers", "--topic", "grouped", "--to", "earliest"]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /FAILED_PRECONDITION GROUP_NOT_EMPTY: .*stop its consumers/);
  const undeletable = await raftline(["group", "delete", "readers"]);
  assert.equal(undeletable.code, 1);
  await waitFor(async () => (await describeGroup("readers")).partitions.every((p) => p.lag === 0), commandDeadlineMs, "the member to commit the rest");
  member.child.kill("SIGINT");
  const followed = ok(await member.done, "consume --follow stopped by SIGINT");
  assert.equal(lines(followed).length, 3, "the member printed the three records left");
  assert.equal((await describeGroup("readers")).members.length, 0, "SIGINT leaves the group at once");

  // Reset to the start of partition 0 only, then the group reads partition 0 again.
  const p0 = (await describeGroup("readers")).partitions[0];
  const reset = ok(await raftline(["group", "reset-offsets", "readers", "--topic", "grouped", "--partition", "0", "--to", "earliest"]), "reset-offsets");
  assert.match(reset.stdout.toString(), /moved 1 of 1 partition of grouped for group readers/);
  assert.deepEqual((await describeGroup("readers")).partitions.map((p) => p.lag), [p0.highWatermark, 0]);
  assert.equal(lines(ok(await raftline(["consume", "grouped", "--group", "readers"]), "consume after reset")).length, p0.highWatermark);

  ok(await raftline(["group", "delete", "readers"]), "group delete");
  const gone = await raftline(["group", "describe", "readers"]);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /NOT_FOUND UNKNOWN_GROUP/);
});

test("consume --group ends at once when the other members own every partition", async () => {
  ok(await raftline(["topic", "create", "single"]), "topic create");
  const owner = startRaftline(["consume", "single", "--group", "pair", "--follow"]);
  await waitFor(async () => (await describeGroup("pair")).members.length === 1, commandDeadlineMs, "the --follow member to join");
  const idle = ok(await raftline(["consume", "single", "--group", "pair"]), "consume --group with nothing assigned");
  assert.equal(idle.stdout.length, 0);
  assert.match(idle.stderr, /own every partition of single: nothing for this member to read/);
  owner.child.kill("SIGINT");
  ok(await owner.done, "the owner stopped by SIGINT");
});

test("group usage errors exit with 2", async () => {
  for (const args of [
    ["consume", "grouped", "--group", "g", "--offset", "3"],
    ["consume", "grouped", "--group", "g", "--from", "1700000000000"],
    ["group", "reset-offsets", "g", "--topic", "grouped"],
    ["group", "reset-offsets", "g", "--topic", "grouped", "--to", "earliest", "--to-time", "0"],
    ["group", "reset-offsets", "g", "--topic", "grouped", "--by-duration", "5x"],
    ["group", "reset-offsets", "g", "--topic", "grouped", "--to", "-1"],
  ]) {
    const run = await raftline(args);
    assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
  }
  const help = ok(await raftline(["group", "reset-offsets", "--help"]), "help");
  assert.match(help.stdout.toString(), /--by-duration/);
});

test("queue create, pop, ack, reject, describe, and dlq with --replay", async () => {
  assert.equal((await raftline(["topic", "create", "work"])).code, 0);
  const lines = join(dir, "work.txt");
  writeFileSync(lines, "one\ntwo\nthree\n");
  assert.equal((await raftline(["produce", "work", "-f", lines, "-H", "origin=cli"])).code, 0);
  const created = await raftline(["queue", "create", "jobs", "--topic", "work", "--delivery-limit", "2"]);
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout.toString(), /created share group jobs on work; dead letters go to jobs\.dlq/);

  const popped = await raftline(["queue", "pop", "jobs", "-n", "2", "--timeout-ms", "5000"]);
  assert.equal(popped.code, 0, popped.stderr);
  const deliveries = popped.stdout.toString().trim().split("\n").map((l) => JSON.parse(l) as { offset: number; value: string; deliveryCount: number; consumerId: string });
  assert.deepEqual(deliveries.map((d) => [d.offset, d.value, d.deliveryCount]), [[0, "one", 1], [1, "two", 1]]);
  const consumer = deliveries[0].consumerId;
  assert.match(popped.stderr, new RegExp(`held by consumer ${consumer}`));

  assert.equal((await raftline(["queue", "ack", "jobs", "--consumer", consumer, "0:0"])).code, 0);
  const rejected = await raftline(["queue", "ack", "jobs", "--consumer", consumer, "0:1", "--reject", "bad input"]);
  assert.equal(rejected.code, 0, rejected.stderr);
  const again = await raftline(["queue", "ack", "jobs", "--consumer", consumer, "0:0"]);
  assert.equal(again.code, 1, "accepting twice is refused");
  assert.match(again.stderr, /RECORD_NOT_ACQUIRED/);

  const described = await raftline(["queue", "describe", "jobs", "--json"]);
  const d = JSON.parse(described.stdout.toString()) as { acceptedTotal: number; deadLetteredTotal: number; partitions: { startOffset: number }[] };
  assert.deepEqual([Number(d.acceptedTotal), Number(d.deadLetteredTotal), Number(d.partitions[0].startOffset)], [1, 1, 2]);

  const dlq = await raftline(["queue", "dlq", "jobs", "--replay"]);
  assert.equal(dlq.code, 0, dlq.stderr);
  assert.match(dlq.stdout.toString(), /work\/0\/1 +1 +rejected: bad input/);
  assert.match(dlq.stderr, /replayed 1 dead letter; next time start with --from 1/);
  const replayed = await raftline(["consume", "work", "--format", "json"]);
  const last = JSON.parse(replayed.stdout.toString().trim().split("\n").pop() as string) as { offset: number; value: string; headers: { key: string; value: string }[] };
  assert.deepEqual([last.offset, last.value, last.headers], [3, "two", [{ key: "origin", value: "cli" }]]);

  const rest = await raftline(["queue", "pop", "jobs", "-n", "10", "--timeout-ms", "3000", "--ack", "--format", "value"]);
  assert.equal(rest.stdout.toString(), "three\ntwo\n");
  assert.equal((await raftline(["queue", "pop", "nope"])).code, 1);
  assert.equal((await raftline(["queue", "ack", "jobs", "--consumer", consumer, "zero"])).code, 2);
});

test("queue delete: refused while a record is locked, --force deletes it and keeps its topics", async () => {
  assert.equal((await raftline(["topic", "create", "deljobs"])).code, 0);
  const lines = join(dir, "deljobs.txt");
  writeFileSync(lines, "a\nb\n");
  assert.equal((await raftline(["produce", "deljobs", "-f", lines])).code, 0);
  assert.equal((await raftline(["queue", "create", "deleting", "--topic", "deljobs"])).code, 0);
  assert.equal((await raftline(["queue", "pop", "deleting", "--timeout-ms", "5000"])).code, 0);
  const refused = await raftline(["queue", "delete", "deleting"]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /SHARE_GROUP_IN_USE/);
  const forced = await raftline(["queue", "delete", "deleting", "--force"]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout.toString(), /deleted share group deleting \(topic deljobs and the dead-letter topic kept\); 1 locked record abandoned/);
  assert.doesNotMatch((await raftline(["queue", "list"])).stdout.toString(), /deleting/);
  assert.match((await raftline(["topic", "list"])).stdout.toString(), /deleting\.dlq/);
  const again = await raftline(["queue", "delete", "deleting"]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /UNKNOWN_SHARE_GROUP/);
});
