// `raftline consume TOPIC`: prints records of one or every partition from a start point, until the end
// of the partitions as they were when it started (or --count records, or forever with --follow). With
// --group it reads as a member of a consumer group instead (consume-group.ts).
import { Command, Option } from "commander";
import type { Consumer, ConsumedRecord, RaftlineClient, StartFrom, Subscription } from "../../client";
import { ConnectionFlags, withBrokersOption, withClient } from "../connection";
import { UsageError } from "../exit-codes";
import { nonNegativeInt } from "../options";
import { writeOut } from "../output";
import { consumeAsGroupMember } from "./consume-group";
import { startProgress } from "../progress";
import { RecordFormat, formatRecord, recordFormats } from "../record-format";

interface ConsumeFlags extends ConnectionFlags {
  partition?: number;
  offset?: number;
  from: string;
  count?: number;
  follow?: boolean;
  format: RecordFormat;
  keySeparator: string;
  group?: string;
}

/** Where each partition starts: an offset or a position, and records older than a timestamp skipped. */
interface Start {
  from: StartFrom;
  notBeforeMs: number;
}

function parseStart(flags: ConsumeFlags): Start {
  if (flags.offset !== undefined) return { from: flags.offset, notBeforeMs: 0 };
  if (flags.from === "earliest" || flags.from === "latest") return { from: flags.from, notBeforeMs: 0 };
  const ms = /^\d+$/.test(flags.from) ? Number(flags.from) : Date.parse(flags.from);
  if (!Number.isFinite(ms)) throw new UsageError(`--from is earliest, latest, a Unix time in ms or an ISO date; got "${flags.from}"`);
  // There is no index by time: read from the start and skip what is older.
  return { from: "earliest", notBeforeMs: ms };
}

/** A group member reads what the group assigns it, from the group's offsets: only --from earliest|latest applies. */
function groupStartFrom(flags: ConsumeFlags): "earliest" | "latest" {
  if (flags.partition !== undefined || flags.offset !== undefined) {
    throw new UsageError("--group reads the partitions the group assigns, from its committed offsets: to move them use `raftline group reset-offsets`, not --partition or --offset");
  }
  if (flags.from !== "earliest" && flags.from !== "latest") {
    throw new UsageError("with --group, --from is earliest or latest (where partitions without a committed offset start); to start at a time use `raftline group reset-offsets --to-time`");
  }
  return flags.from;
}

export function addConsumeCommand(program: Command): void {
  withBrokersOption(
    program
      .command("consume")
      .description("print records of a topic, one per line")
      .argument("<topic>", "topic name"),
  )
    .option("-p, --partition <n>", "only this partition (default: all)", nonNegativeInt("--partition"))
    .option("-o, --offset <n>", "start at this offset (in each partition read)", nonNegativeInt("--offset"))
    .option("--from <where>", "start at earliest, latest, or the first record at/after a time (ms since epoch or ISO date)", "earliest")
    .option("-c, --count <n>", "stop after this many records", nonNegativeInt("--count"))
    .option("-F, --follow", "keep waiting for new records instead of stopping at the end")
    .addOption(new Option("--format <format>", "value | kv (key, separator, value) | json (lines; binary as base64)").choices(recordFormats).default("value"))
    .option("-K, --key-separator <sep>", "separator between key and value for --format kv", "=")
    .option("-g, --group <id>", "read as a member of this consumer group, from its committed offsets, committing what is printed")
    .action(async (topic: string, flags: ConsumeFlags) => {
      if (flags.group !== undefined) {
        const group = flags.group;
        const startFrom = groupStartFrom(flags);
        return withClient(flags, (client) => consumeAsGroupMember(client, topic, { ...flags, groupId: group, startFrom }));
      }
      const start = parseStart(flags);
      await withClient(flags, (client) => consume(client, topic, flags, start));
    });
}

async function consume(client: RaftlineClient, topic: string, flags: ConsumeFlags, start: Start): Promise<void> {
  const described = await client.admin().describeTopic(topic);
  const partitions = described.partitions.filter((p) => flags.partition === undefined || p.partition === flags.partition);
  if (partitions.length === 0) throw new UsageError(`topic ${topic} has no partition ${flags.partition}`);
  const consumer = client.consumer();
  const progress = startProgress("consumed");
  const subscriptions: Subscription[] = [];
  let printed = 0;
  const limit = flags.count ?? Infinity;
  const stopAll = (): void => subscriptions.forEach((s) => s.close());
  const wanted = (r: ConsumedRecord): boolean => r.timestampMs >= start.notBeforeMs;
  // Records from different partitions are printed as they come; one partition's keep their order.
  const readPartition = async (partition: number, endOffset: number): Promise<void> => {
    if (limit === 0 || (!flags.follow && flags.count === undefined && atEnd(start.from, endOffset, partition, described.partitions))) return;
    const sub = subscribe(consumer, topic, partition, start.from);
    subscriptions.push(sub);
    for await (const r of sub) {
      if (printed < limit && wanted(r)) {
        printed++;
        const out = formatRecord(r, flags.format, flags.keySeparator);
        progress.add(1, out.length);
        await writeOut(out);
        if (printed >= limit) stopAll();
      }
      const done = !flags.follow && flags.count === undefined && r.offset + 1 >= endOffset;
      if (done) sub.close();
    }
  };
  try {
    await Promise.all(partitions.map((p) => readPartition(p.partition, p.highWatermark)));
  } finally {
    stopAll();
    progress.stop();
  }
}

function subscribe(consumer: Consumer, topic: string, partition: number, from: StartFrom): Subscription {
  return consumer.subscribe({ topic, partition, from });
}

/** With nothing to wait for, a partition already at its end has nothing to print. */
function atEnd(from: StartFrom, endOffset: number, partition: number, all: { partition: number; startOffset: number }[]): boolean {
  if (from === "latest") return true;
  if (typeof from === "number") return from >= endOffset;
  const startOffset = all.find((p) => p.partition === partition)?.startOffset ?? 0;
  return startOffset >= endOffset;
}
