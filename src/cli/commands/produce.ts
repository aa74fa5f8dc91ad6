// `raftline produce TOPIC`: one record per input line (stdin or --file), idempotent unless asked
// otherwise. A file of lines ending in '\n' produced to a one-partition topic and consumed back with
// `consume --count N` comes out byte for byte.
import { Command, Option } from "commander";
import { createReadStream } from "node:fs";
import type { AcksMode, Producer, ProducerRecord, RecordHeader } from "../../client";
import { ConnectionFlags, withBrokersOption, withClient } from "../connection";
import { UsageError } from "../exit-codes";
import { lines } from "../line-splitter";
import { collect, nonNegativeInt, parseHeader } from "../options";
import { startProgress } from "../progress";

interface ProduceFlags extends ConnectionFlags {
  file?: string;
  keySeparator?: string;
  header?: string[];
  partition?: number;
  acks: AcksMode;
  idempotent: boolean;
}

/** Records handed to one send(); sends pipeline up to sendsInFlightMax. */
const recordsPerSend = 500;
const sendsInFlightMax = 32;

export function addProduceCommand(program: Command): void {
  withBrokersOption(
    program
      .command("produce")
      .description("produce one record per line of stdin (or --file)")
      .argument("<topic>", "topic name"),
  )
    .option("-f, --file <path>", "read lines from this file instead of stdin")
    .option("-K, --key-separator <sep>", "split each line at the first SEP into key and value")
    .option("-H, --header <k=v>", "add a header to every record; repeatable", collect)
    .option("-p, --partition <n>", "produce to this partition (default: by key, else spread)", nonNegativeInt("--partition"))
    .addOption(new Option("--acks <mode>", "when a send counts as done").choices(["quorum", "leader", "none"]).default("quorum"))
    .option("--no-idempotent", "allow duplicates on retry (idempotence needs --acks quorum)")
    .action(async (topic: string, flags: ProduceFlags) => {
      if (flags.idempotent && flags.acks !== "quorum") throw new UsageError("an idempotent producer needs --acks quorum (or pass --no-idempotent)");
      if (flags.keySeparator === "") throw new UsageError("--key-separator must not be empty");
      const headers: RecordHeader[] = (flags.header ?? []).map(parseHeader);
      const input = flags.file ? createReadStream(flags.file) : process.stdin;
      await withClient(flags, async (client) => {
        const producer = client.producer({ acks: flags.acks, idempotent: flags.idempotent });
        const progress = startProgress("produced");
        try {
          const count = await produceLines(producer, topic, lines(input), flags, headers, progress.add);
          await producer.close();
          progress.stop();
          process.stderr.write(`produced ${count} records to ${topic}\n`);
        } finally {
          progress.stop();
        }
      });
    });
}

function toRecord(line: Buffer, separator: Buffer | undefined, headers: RecordHeader[]): ProducerRecord {
  const record: ProducerRecord = { value: line, headers };
  if (separator) {
    const at = line.indexOf(separator);
    if (at >= 0) {
      record.key = line.subarray(0, at);
      record.value = line.subarray(at + separator.length);
    }
  }
  return record;
}

async function produceLines(
  producer: Producer,
  topic: string,
  input: AsyncIterable<Buffer>,
  flags: ProduceFlags,
  headers: RecordHeader[],
  onSent: (records: number, bytes: number) => void,
): Promise<number> {
  const separator = flags.keySeparator === undefined ? undefined : Buffer.from(flags.keySeparator);
  const inFlight: Promise<unknown>[] = [];
  let batch: ProducerRecord[] = [];
  let batchBytes = 0;
  let count = 0;
  const send = async (): Promise<void> => {
    const records = batch;
    const bytes = batchBytes;
    batch = [];
    batchBytes = 0;
    const sent = producer.send({ topic, partition: flags.partition, records }).then(() => onSent(records.length, bytes));
    sent.catch(() => undefined); // awaited below; this only keeps a failure while waiting from being "unhandled"
    inFlight.push(sent);
    // The first failure stops the run; later sends are abandoned with the client.
    if (inFlight.length >= sendsInFlightMax) await inFlight.shift();
  };
  for await (const line of input) {
    batch.push(toRecord(line, separator, headers));
    batchBytes += line.length;
    count++;
    if (batch.length >= recordsPerSend) await send();
  }
  if (batch.length > 0) await send();
  await Promise.all(inFlight);
  return count;
}
