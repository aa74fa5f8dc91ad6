// `raftline topic create|list|describe|delete`.
import { Command } from "commander";
import { ConnectionFlags, withBrokersOption, withClient } from "../connection";
import { nonNegativeInt } from "../options";
import { writeOut } from "../output";
import { table } from "../table";

interface CreateFlags extends ConnectionFlags {
  partitions: number;
  retentionMs: number;
  retentionBytes: number;
  maxRecordBytes: number;
}

interface JsonFlags extends ConnectionFlags {
  json?: boolean;
}

function retention(ms: number, bytes: number): string {
  const parts = [ms ? `${ms} ms` : "", bytes ? `${bytes} B/partition` : ""].filter(Boolean);
  return parts.length ? parts.join(", ") : "forever";
}

export function addTopicCommands(program: Command): void {
  const topic = program.command("topic").description("create, list, describe and delete topics");

  withBrokersOption(topic.command("create").description("create a topic").argument("<name>", "topic name"))
    .option("-p, --partitions <n>", "number of partitions (1..1000)", nonNegativeInt("--partitions"), 1)
    .option("--retention-ms <ms>", "delete records older than this; 0 = keep", nonNegativeInt("--retention-ms"), 0)
    .option("--retention-bytes <n>", "per partition, delete the oldest beyond this size; 0 = no limit", nonNegativeInt("--retention-bytes"), 0)
    .option("--max-record-bytes <n>", "largest record; 0 = the server's default", nonNegativeInt("--max-record-bytes"), 0)
    .action(async (name: string, flags: CreateFlags) => {
      await withClient(flags, async (client) => {
        const t = await client.admin().createTopic({
          name,
          partitions: flags.partitions,
          retentionMs: flags.retentionMs,
          retentionBytes: flags.retentionBytes,
          maxRecordBytes: flags.maxRecordBytes,
        });
        await writeOut(`created topic ${t.name} with ${t.partitions} partition${t.partitions === 1 ? "" : "s"}\n`);
      });
    });

  withBrokersOption(topic.command("list").description("list topics"))
    .option("--json", "print JSON")
    .action(async (flags: JsonFlags) => {
      await withClient(flags, async (client) => {
        const topics = await client.admin().listTopics();
        if (flags.json) return writeOut(JSON.stringify(topics) + "\n");
        await writeOut(
          table(
            ["TOPIC", "PARTITIONS", "RETENTION", "MAX RECORD BYTES"],
            topics.map((t) => [t.name, t.partitions, retention(t.retentionMs, t.retentionBytes), t.maxRecordBytes]),
          ),
        );
      });
    });

  withBrokersOption(topic.command("describe").description("a topic's configuration and partitions").argument("<name>", "topic name"))
    .option("--json", "print JSON")
    .action(async (name: string, flags: JsonFlags) => {
      await withClient(flags, async (client) => {
        const d = await client.admin().describeTopic(name);
        if (flags.json) return writeOut(JSON.stringify(d) + "\n");
        const t = d.topic;
        await writeOut(`topic ${t.name}: ${t.partitions} partition${t.partitions === 1 ? "" : "s"}, retention ${retention(t.retentionMs, t.retentionBytes)}, max record ${t.maxRecordBytes} B\n`);
        await writeOut(
          table(
            ["PARTITION", "START OFFSET", "HIGH WATERMARK", "RECORDS", "BYTES"],
            d.partitions.map((p) => [p.partition, p.startOffset, p.highWatermark, p.highWatermark - p.startOffset, p.bytes]),
          ),
        );
      });
    });

  withBrokersOption(topic.command("delete").description("delete a topic and all its records").argument("<name>", "topic name")).action(
    async (name: string, flags: ConnectionFlags) => {
      await withClient(flags, async (client) => {
        await client.admin().deleteTopic(name);
        await writeOut(`deleted topic ${name}\n`);
      });
    },
  );
}
