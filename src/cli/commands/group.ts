// `raftline group list|describe|reset-offsets|delete`: consumer groups, their members, assignments,
// committed offsets and lag.
import { Command } from "commander";
import { RaftlineError, type GroupDescription, type ResetTarget } from "../../client";
import { ConnectionFlags, withBrokersOption, withClient } from "../connection";
import { UsageError } from "../exit-codes";
import { collect, nonNegativeInt } from "../options";
import { writeOut } from "../output";
import { table } from "../table";

interface JsonFlags extends ConnectionFlags {
  json?: boolean;
}

interface ResetFlags extends ConnectionFlags {
  topic: string;
  partition?: string[];
  to?: string;
  toTime?: string;
  byDuration?: string;
  dryRun?: boolean;
}

/** "GROUP_STATE_STABLE" → "STABLE". */
function stateName(state: string): string {
  return state.replace("GROUP_STATE_", "");
}

function partitionList(tps: { topic: string; partitions: number[] }[]): string {
  return tps.map((t) => `${t.topic}[${t.partitions.join(",")}]`).join(" ") || "-";
}

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "15m", "1h30m", "2d" → milliseconds. */
export function parseDuration(spec: string): number {
  const parts = [...spec.matchAll(/(\d+)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== spec) {
    throw new UsageError(`--by-duration is a duration like 30s, 15m, 1h30m or 2d; got "${spec}"`);
  }
  return parts.reduce((ms, p) => ms + Number(p[1]) * durationUnits[p[2]], 0);
}

/** Milliseconds since the epoch, or an ISO date. */
function parseTime(spec: string): number {
  const ms = /^\d+$/.test(spec) ? Number(spec) : Date.parse(spec);
  if (!Number.isFinite(ms)) throw new UsageError(`--to-time is a Unix time in ms or an ISO date; got "${spec}"`);
  return ms;
}

export function parseResetTarget(flags: Pick<ResetFlags, "to" | "toTime" | "byDuration">): ResetTarget {
  const given = [flags.to, flags.toTime, flags.byDuration].filter((v) => v !== undefined).length;
  if (given !== 1) throw new UsageError("give exactly one of --to earliest|latest|<offset>, --to-time <time> and --by-duration <duration>");
  if (flags.toTime !== undefined) return { timestampMs: parseTime(flags.toTime) };
  if (flags.byDuration !== undefined) return { durationBackMs: parseDuration(flags.byDuration) };
  if (flags.to === "earliest") return { earliest: true };
  if (flags.to === "latest") return { latest: true };
  return { offset: nonNegativeInt("--to")(flags.to as string) };
}

function parsePartitions(specs: string[] | undefined): number[] {
  return (specs ?? []).flatMap((s) => s.split(",")).map((p) => nonNegativeInt("--partition")(p.trim()));
}

async function printDescription(d: GroupDescription): Promise<void> {
  const members = d.members.length;
  await writeOut(`group ${d.groupId}: ${stateName(d.state)}, generation ${d.generation}, ${members} member${members === 1 ? "" : "s"}, assignor ${d.assignor || "-"}\n`);
  if (members > 0) {
    await writeOut(
      "\n" +
        table(
          ["MEMBER", "CLIENT", "INSTANCE", "CONNECTED", "GENERATION", "ASSIGNED", "REVOKING"],
          d.members.map((m) => [m.memberId, m.clientId, m.instanceId || "-", m.connected ? "yes" : "no", m.generation, partitionList(m.assigned), partitionList(m.revoking)]),
        ),
    );
  }
  if (d.partitions.length > 0) {
    await writeOut(
      "\n" +
        table(
          ["TOPIC", "PARTITION", "COMMITTED", "LOG START", "HIGH WATERMARK", "LAG", "OWNER"],
          d.partitions.map((p) => [p.topic, p.partition, p.committedOffset < 0 ? "-" : p.committedOffset, p.logStartOffset, p.highWatermark, p.lag, p.owner || "-"]),
        ),
    );
  }
}

export function addGroupCommands(program: Command): void {
  const group = program.command("group").description("list, describe, reset the offsets of and delete consumer groups");

  withBrokersOption(group.command("list").description("list consumer groups"))
    .option("--json", "print JSON")
    .action(async (flags: JsonFlags) => {
      await withClient(flags, async (client) => {
        const groups = await client.groups().listGroups();
        if (flags.json) return writeOut(JSON.stringify(groups) + "\n");
        await writeOut(table(["GROUP", "STATE", "MEMBERS", "GENERATION"], groups.map((g) => [g.groupId, stateName(g.state), g.members, g.generation])));
      });
    });

  withBrokersOption(
    group.command("describe").description("a group's state, members, assignments, and per partition the committed offset and lag").argument("<group>", "group id"),
  )
    .option("--json", "print JSON")
    .action(async (groupId: string, flags: JsonFlags) => {
      await withClient(flags, async (client) => {
        const d = await client.groups().describeGroup(groupId);
        if (flags.json) return writeOut(JSON.stringify(d) + "\n");
        await printDescription(d);
      });
    });

  withBrokersOption(
    group
      .command("reset-offsets")
      .description("move a group's committed offsets of one topic (only while the group has no members; creates the group if needed)")
      .argument("<group>", "group id"),
  )
    .requiredOption("-t, --topic <topic>", "the topic whose offsets move")
    .option("-p, --partition <n>", "only this partition (repeat it, or comma-separate; default: all)", collect)
    .option("--to <where>", "earliest (log start), latest (high watermark) or an offset")
    .option("--to-time <time>", "the first record at/after this time (ms since epoch or ISO date)")
    .option("--by-duration <duration>", "the first record at/after now minus this (30s, 15m, 1h30m, 2d)")
    .option("--dry-run", "show the offsets it would set, change nothing")
    .addHelpText("after", "\nExample: raftline group reset-offsets billing --topic orders --to earliest --dry-run")
    .action(async (groupId: string, flags: ResetFlags) => {
      const to = parseResetTarget(flags);
      const partitions = parsePartitions(flags.partition);
      await withClient(flags, async (client) => {
        const groups = client.groups();
        const before = await groups.fetchOffsets(groupId, flags.topic).catch((err: unknown) => {
          if (err instanceof RaftlineError && err.reason === "ERROR_REASON_UNKNOWN_GROUP") return [];
          throw err;
        });
        const offsets = await groups.resetOffsets({ groupId, topic: flags.topic, partitions, to, dryRun: flags.dryRun ?? false }).catch((err: unknown) => {
          if (err instanceof RaftlineError && err.reason === "ERROR_REASON_GROUP_NOT_EMPTY") {
            const hint = "offsets move only while a group has no members: stop its consumers (or let their sessions expire) and retry";
            throw new RaftlineError({ code: err.code, reason: err.reason, message: `${err.message}; ${hint}` });
          }
          throw err;
        });
        const current = new Map(before.map((o) => [o.partition, o.offset]));
        const changed = offsets.filter((o) => current.get(o.partition) !== o.offset).length;
        await writeOut(
          table(
            ["TOPIC", "PARTITION", "CURRENT", "NEW"],
            offsets.map((o) => [o.topic, o.partition, current.get(o.partition) ?? "-", o.offset]),
          ),
        );
        const what = `${changed} of ${offsets.length} partition${offsets.length === 1 ? "" : "s"} of ${flags.topic}`;
        await writeOut(flags.dryRun ? `dry run: would move ${what}; nothing changed\n` : `moved ${what} for group ${groupId}\n`);
      });
    });

  withBrokersOption(group.command("delete").description("delete a group and its committed offsets (only without members)").argument("<group>", "group id")).action(
    async (groupId: string, flags: ConnectionFlags) => {
      await withClient(flags, async (client) => {
        await client.groups().deleteGroup(groupId);
        await writeOut(`deleted group ${groupId}\n`);
      });
    },
  );
}
