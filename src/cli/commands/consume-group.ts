// `raftline consume TOPIC --group G`: reads as a member of a consumer group, from the group's committed
// offsets, and commits each record's offset once it is printed. Like the plain consume it stops at the end
// of the partitions as they were when it started (the partitions this member is assigned; a member the
// settled group gives none stops at once), after --count records, or never with --follow.
import type { ConsumedRecord, RaftlineClient, TopicPartition } from "../../client";
import { RaftlineError } from "../../client";
import { writeOut } from "../output";
import { startProgress } from "../progress";
import { RecordFormat, formatRecord } from "../record-format";

export interface GroupConsumeOptions {
  groupId: string;
  /** Where a partition without a committed offset starts. */
  startFrom: "earliest" | "latest";
  count?: number;
  follow?: boolean;
  format: RecordFormat;
  keySeparator: string;
}

/** How often a member without partitions asks whether the group has settled without it. */
const unassignedCheckMs = 500;

export async function consumeAsGroupMember(client: RaftlineClient, topic: string, o: GroupConsumeOptions): Promise<void> {
  const described = await client.admin().describeTopic(topic);
  const limit = o.count ?? Infinity;
  if (limit === 0) return;
  // Without --follow or --count, each partition is read up to where it ended when the command started.
  const bounded = !o.follow && o.count === undefined;
  const endOf = new Map(described.partitions.map((p) => [p.partition, { start: p.startOffset, end: p.highWatermark }]));
  const finished = new Set<number>();
  const consumer = client.consumer({ groupId: o.groupId, clientId: "raftline-cli", startFrom: o.startFrom });
  consumer.subscribe({ topics: [topic] });
  const progress = startProgress("consumed");
  let printed = 0;
  let closing: Promise<void> | undefined;
  let failure: unknown;
  const stop = (): void => {
    closing ??= consumer.close();
  };
  const stopIfDone = (): void => {
    const assigned = consumer.assignment();
    if (bounded && assigned.length > 0 && assigned.every((tp) => finished.has(tp.partition))) stop();
  };

  if (bounded) {
    // A partition whose committed offset (or start point) is already at its end has nothing to print.
    consumer.on("partitionsAssigned", (tps: TopicPartition[]) => {
      void nothingLeft(client, o, tps, endOf).then(
        (done) => {
          for (const p of done) finished.add(p);
          stopIfDone();
        },
        (err: unknown) => {
          failure ??= err;
          stop();
        },
      );
    });
  }

  // A member the other members leave no partition to (a stable group, nothing assigned to it) is done.
  const unassignedCheck = bounded ? setInterval(() => void stopIfUnassigned(), unassignedCheckMs) : undefined;
  const stopIfUnassigned = async (): Promise<void> => {
    if (closing || consumer.memberId === "" || consumer.assignment().length > 0) return;
    const d = await client.groups().describeGroup(o.groupId).catch(() => undefined);
    const me = d?.members.find((m) => m.memberId === consumer.memberId);
    if (d?.state !== "GROUP_STATE_STABLE" || !me || me.assigned.length > 0 || me.revoking.length > 0 || closing) return;
    process.stderr.write(`raftline: the other members of group ${o.groupId} own every partition of ${topic}: nothing for this member to read\n`);
    stop();
  };

  const print = async (r: ConsumedRecord): Promise<void> => {
    const out = formatRecord(r, o.format, o.keySeparator);
    progress.add(1, out.length);
    await writeOut(out);
    printed++;
    if (printed >= limit) return stop();
    const end = endOf.get(r.partition)?.end ?? 0;
    if (bounded && r.offset + 1 >= end) {
      // Its end reached: read no further here, even if more records arrived since the command started.
      finished.add(r.partition);
      consumer.pause([{ topic, partition: r.partition }]);
      stopIfDone();
    }
  };
  // Ctrl-C (or a TERM) leaves the group cleanly: what was printed is committed and the partitions move
  // to the other members at once instead of after the session timeout.
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    // A record's offset is marked processed when eachMessage returns, i.e. after it was printed; the
    // consumer commits those every second and on close.
    await consumer.run({ eachMessage: print });
  } finally {
    stop();
    clearInterval(unassignedCheck);
    await closing;
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    progress.stop();
  }
  if (failure !== undefined) throw failure;
}

/** Of these newly assigned partitions, those already read to the end the command started with. */
async function nothingLeft(
  client: RaftlineClient,
  o: GroupConsumeOptions,
  tps: TopicPartition[],
  endOf: Map<number, { start: number; end: number }>,
): Promise<number[]> {
  const committed = await client
    .groups()
    .fetchOffsets(o.groupId, tps[0]?.topic ?? "")
    .catch((err: unknown) => {
      if (err instanceof RaftlineError && err.reason === "ERROR_REASON_UNKNOWN_GROUP") return [];
      throw err;
    });
  const at = new Map(committed.map((c) => [c.partition, c.offset]));
  return tps
    .filter((tp) => {
      const range = endOf.get(tp.partition) ?? { start: 0, end: 0 };
      const from = at.get(tp.partition) ?? (o.startFrom === "earliest" ? range.start : range.end);
      return from >= range.end;
    })
    .map((tp) => tp.partition);
}
