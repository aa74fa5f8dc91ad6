// `raftline queue create|list|describe|delete|pop|ack|dlq`: work queues (share groups). Pop takes records
// under a lock and prints them; ack answers them by partition:offset as the consumer that popped them; dlq
// shows a group's dead letters and can replay them to where they came from.
import { Command, Option } from "commander";
import type { ConsumedRecord, QueueDelivery, RaftlineClient, ShareGroupDescription, WorkQueue } from "../../client";
import { ConnectionFlags, withBrokersOption, withClient } from "../connection";
import { UsageError } from "../exit-codes";
import { nonNegativeInt } from "../options";
import { writeOut } from "../output";
import { RecordFormat, formatRecord, recordFormats } from "../record-format";
import { table } from "../table";

interface JsonFlags extends ConnectionFlags {
  json?: boolean;
}

interface PopFlags extends ConnectionFlags {
  count: number;
  timeoutMs: number;
  consumer?: string;
  ack?: boolean;
  format: RecordFormat | "delivery";
}

interface AckFlags extends ConnectionFlags {
  consumer: string;
  release?: boolean;
  delayMs?: number;
  reject?: string;
  renew?: boolean;
}

interface CreateFlags extends ConnectionFlags {
  topic: string;
  deliveryLimit?: number;
  lockTimeoutMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  maxInFlight?: number;
  deadLetterTopic?: string;
}

interface DeleteFlags extends ConnectionFlags {
  force?: boolean;
}

interface DlqFlags extends ConnectionFlags {
  from: number;
  count?: number;
  replay?: boolean;
  json?: boolean;
}

const dlqPrefix = "raftline-dlq-";

const writeErr = (text: string): Promise<void> => writeOut(text, process.stderr);
/** Dead letters read per fetch. */
const fetchBytes = 1024 * 1024;

/** "0:17" → { partition: 0, offset: 17 }. */
export function parseRecordRef(spec: string): { partition: number; offset: number } {
  const m = /^(\d+):(\d+)$/.exec(spec);
  if (!m) throw new UsageError(`a record is PARTITION:OFFSET, e.g. 0:17; got "${spec}"`);
  return { partition: Number(m[1]), offset: Number(m[2]) };
}

async function queueOf(client: RaftlineClient, groupId: string, consumerId?: string): Promise<WorkQueue> {
  const { topic } = await client.shares().describeShareGroup(groupId);
  return client.queue({ group: groupId, topic, ...(consumerId ? { consumerId } : {}) });
}

function deliveryLine(d: QueueDelivery, consumerId: string): string {
  const record = JSON.parse(formatRecord(d, "json", "").toString("utf8")) as Record<string, unknown>;
  return JSON.stringify({ ...record, deliveryCount: d.deliveryCount, lockExpiresAtMs: d.lockExpiresAtMs, consumerId }) + "\n";
}

async function printDescription(d: ShareGroupDescription): Promise<void> {
  const c = d.config;
  await writeOut(
    `share group ${d.groupId} on ${d.topic}: ${d.acceptedTotal} accepted, ${d.deadLetteredTotal} dead-lettered (to ${c?.deadLetterTopic}); ` +
      `delivery limit ${c?.deliveryLimit}, lock ${c?.lockTimeoutMs} ms, backoff ${c?.backoffInitialMs}..${c?.backoffMaxMs} ms, ` +
      `window ${c?.maxInFlightPerPartition} per partition; ${d.consumers.length} streaming consumer${d.consumers.length === 1 ? "" : "s"}\n\n`,
  );
  await writeOut(
    table(
      ["PARTITION", "START", "WINDOW END", "HIGH WATERMARK", "ACQUIRED", "AVAILABLE", "DLQ PENDING", "DONE IN WINDOW", "LAG"],
      d.partitions.map((p) => [p.partition, p.startOffset, p.windowEnd, p.highWatermark, p.acquired, p.available, p.deadLetterPending, p.done, p.lag]),
    ),
  );
}

const header = (r: ConsumedRecord, key: string): string => r.headers.find((h) => h.key === key)?.value.toString("utf8") ?? "";

/** The group's dead letters from `from` on (at most `count`), read from its dead-letter topic. */
async function deadLetters(client: RaftlineClient, groupId: string, topic: string, from: number, count: number | undefined): Promise<ConsumedRecord[]> {
  const consumer = client.consumer();
  const out: ConsumedRecord[] = [];
  let offset = from;
  for (;;) {
    const r = await consumer.fetch({ topic, partition: 0, offset, maxBytes: fetchBytes, maxWaitMs: 0 });
    for (const record of r.records) {
      if (header(record, `${dlqPrefix}group`) === groupId) out.push(record);
      if (count !== undefined && out.length >= count) return out;
    }
    if (r.records.length === 0 || r.nextOffset >= r.highWatermark) return out;
    offset = r.nextOffset;
  }
}

export function addQueueCommands(program: Command): void {
  const queue = program.command("queue").description("work queues (share groups): pop and answer records, describe a group, show and replay dead letters");

  withBrokersOption(queue.command("create").description("create a share group on a topic (and its dead-letter topic), or change its configuration").argument("<group>", "share group id"))
    .requiredOption("-t, --topic <topic>", "the topic it hands out")
    .option("--delivery-limit <n>", "deliveries before a record is dead-lettered (default 5)", nonNegativeInt("--delivery-limit"))
    .option("--lock-timeout-ms <ms>", "how long a consumer holds a record (default 30000)", nonNegativeInt("--lock-timeout-ms"))
    .option("--backoff-initial-ms <ms>", "backoff before the first redelivery, doubling after (default 0: none)", nonNegativeInt("--backoff-initial-ms"))
    .option("--backoff-max-ms <ms>", "largest backoff (default 60000)", nonNegativeInt("--backoff-max-ms"))
    .option("--max-in-flight <n>", "records per partition handed out and not yet done (default 5000)", nonNegativeInt("--max-in-flight"))
    .option("--dead-letter-topic <topic>", "where dead letters go (default GROUP.dlq)")
    .action(async (groupId: string, flags: CreateFlags) => {
      const given = {
        deliveryLimit: flags.deliveryLimit,
        lockTimeoutMs: flags.lockTimeoutMs,
        backoffInitialMs: flags.backoffInitialMs,
        backoffMaxMs: flags.backoffMaxMs,
        maxInFlightPerPartition: flags.maxInFlight,
        deadLetterTopic: flags.deadLetterTopic,
      };
      const config = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
      await withClient(flags, async (client) => {
        const r = await client.queue({ group: groupId, topic: flags.topic, ...(Object.keys(config).length > 0 ? { config } : {}) }).ensure();
        await writeOut(`${r.created ? "created" : "updated"} share group ${groupId} on ${r.topic}; dead letters go to ${r.config?.deadLetterTopic}\n`);
      });
    });

  withBrokersOption(queue.command("list").description("list share groups"))
    .option("--json", "print JSON")
    .action(async (flags: JsonFlags) => {
      await withClient(flags, async (client) => {
        const groups = await client.shares().listShareGroups();
        if (flags.json) return writeOut(JSON.stringify(groups) + "\n");
        await writeOut(table(["GROUP", "TOPIC"], groups.map((g) => [g.groupId, g.topic])));
      });
    });

  withBrokersOption(queue.command("describe").description("a share group's configuration, and per partition its start offset, window and counts").argument("<group>", "share group id"))
    .option("--json", "print JSON")
    .action(async (groupId: string, flags: JsonFlags) => {
      await withClient(flags, async (client) => {
        const d = await client.shares().describeShareGroup(groupId);
        if (flags.json) return writeOut(JSON.stringify(d) + "\n");
        await printDescription(d);
      });
    });

  withBrokersOption(
    queue
      .command("delete")
      .description("delete a share group's state (not its topic or dead-letter topic); refused while records are locked or consumers stream, unless --force")
      .argument("<group>", "share group id"),
  )
    .option("--force", "delete it even while in use (its records' locks are abandoned, its streams end)")
    .action(async (groupId: string, flags: DeleteFlags) => {
      await withClient(flags, async (client) => {
        const r = await client.shares().deleteShareGroup(groupId, { force: flags.force ?? false });
        const abandoned = r.abandonedLocks > 0 ? `; ${r.abandonedLocks} locked record${r.abandonedLocks === 1 ? "" : "s"} abandoned` : "";
        await writeOut(`deleted share group ${groupId} (topic ${r.topic} and the dead-letter topic kept)${abandoned}\n`);
      });
    });

  withBrokersOption(
    queue
      .command("pop")
      .description("take up to N records under a lock and print them (answer them with `queue ack`, or pass --ack)")
      .argument("<group>", "share group id"),
  )
    .option("-n, --count <n>", "at most this many records (1..1000)", nonNegativeInt("--count"), 1)
    .option("--timeout-ms <ms>", "wait this long for a first record (0..300000)", nonNegativeInt("--timeout-ms"), 0)
    .option("--consumer <id>", "hold the records as this consumer id (default: a fresh one, printed on stderr)")
    .option("--ack", "accept each record once printed")
    .addOption(new Option("--format <format>", "delivery (JSON with delivery count and lock), or as consume prints").choices(["delivery", ...recordFormats]).default("delivery"))
    .addHelpText("after", "\nExample: raftline queue pop jobs -n 10 --timeout-ms 5000, then raftline queue ack jobs --consumer ID 0:17 0:18")
    .action(async (groupId: string, flags: PopFlags) => {
      if (flags.count < 1) throw new UsageError("--count is at least 1");
      await withClient(flags, async (client) => {
        const q = await queueOf(client, groupId, flags.consumer);
        const popped = await q.pop({ maxRecords: flags.count, timeoutMs: flags.timeoutMs });
        for (const d of popped) {
          await writeOut(flags.format === "delivery" ? deliveryLine(d, q.consumerId) : formatRecord(d, flags.format, "\t"));
          if (flags.ack) await d.ack();
        }
        if (!flags.ack && popped.length > 0) await writeErr(`held by consumer ${q.consumerId}\n`);
        if (popped.length === 0) await writeErr("no records\n");
        await q.close();
      });
    });

  withBrokersOption(
    queue
      .command("ack")
      .description("answer held records: accept (default), --release, --reject REASON or --renew")
      .argument("<group>", "share group id")
      .argument("<records...>", "PARTITION:OFFSET of each record"),
  )
    .requiredOption("--consumer <id>", "the consumer id that holds them (from `queue pop`)")
    .option("--release", "give them back (delivered again after --delay-ms or the backoff)")
    .option("--delay-ms <ms>", "with --release: not before this many ms", nonNegativeInt("--delay-ms"))
    .option("--reject <reason>", "move them to the dead-letter topic now")
    .option("--renew", "extend their locks")
    .action(async (groupId: string, specs: string[], flags: AckFlags) => {
      const chosen = [flags.release, flags.reject !== undefined, flags.renew].filter(Boolean).length;
      if (chosen > 1) throw new UsageError("give at most one of --release, --reject and --renew");
      if (flags.delayMs !== undefined && !flags.release) throw new UsageError("--delay-ms goes with --release");
      const records = specs.map(parseRecordRef);
      const answer = flags.release ? "release" : flags.reject !== undefined ? "reject" : flags.renew ? "renew" : "accept";
      await withClient(flags, async (client) => {
        const q = await queueOf(client, groupId, flags.consumer);
        await Promise.all(records.map((r) => q.answerRecord(r, answer, { delayMs: flags.delayMs, reason: flags.reject })));
        await q.close();
        await writeOut(`${answer === "accept" ? "accepted" : answer === "reject" ? "rejected" : answer === "renew" ? "renewed" : "released"} ${records.length} record${records.length === 1 ? "" : "s"}\n`);
      });
    });

  withBrokersOption(
    queue
      .command("dlq")
      .description("show a share group's dead letters; --replay produces them again to their source topic and partition")
      .argument("<group>", "share group id"),
  )
    .option("--from <offset>", "start at this offset of the dead-letter topic", nonNegativeInt("--from"), 0)
    .option("-c, --count <n>", "at most this many", nonNegativeInt("--count"))
    .option("--replay", "produce each to its source (key, value, headers and timestamp as they were; the dead-letter headers dropped)")
    .option("--json", "print JSON lines")
    .action(async (groupId: string, flags: DlqFlags) => {
      await withClient(flags, async (client) => {
        const d = await client.shares().describeShareGroup(groupId);
        const dlqTopic = d.config?.deadLetterTopic ?? "";
        const letters = await deadLetters(client, groupId, dlqTopic, flags.from, flags.count);
        if (flags.json) {
          for (const r of letters) await writeOut(formatRecord(r, "json", ""));
        } else {
          await writeOut(
            table(
              ["DLQ OFFSET", "SOURCE", "DELIVERIES", "REASON", "AT", "VALUE"],
              letters.map((r) => [
                r.offset,
                `${header(r, `${dlqPrefix}source-topic`)}/${header(r, `${dlqPrefix}source-partition`)}/${header(r, `${dlqPrefix}source-offset`)}`,
                header(r, `${dlqPrefix}delivery-count`),
                header(r, `${dlqPrefix}reason`),
                new Date(Number(header(r, `${dlqPrefix}time-ms`))).toISOString(),
                r.value.toString("utf8").slice(0, 40),
              ]),
            ),
          );
        }
        if (!flags.replay || letters.length === 0) return;
        const producer = client.producer({ idempotent: true });
        for (const r of letters) {
          await producer.send({
            topic: header(r, `${dlqPrefix}source-topic`),
            partition: Number(header(r, `${dlqPrefix}source-partition`)),
            records: [{ ...(r.key ? { key: r.key } : {}), value: r.value, timestampMs: r.timestampMs, headers: r.headers.filter((h) => !h.key.startsWith(dlqPrefix)) }],
          });
        }
        await producer.close();
        const next = letters[letters.length - 1].offset + 1;
        await writeErr(`replayed ${letters.length} dead letter${letters.length === 1 ? "" : "s"}; next time start with --from ${next}\n`);
      });
    });
}
