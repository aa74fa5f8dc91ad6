// --brokers for every client command (env RAFTLINE_BROKERS, default: the dev cluster), and running a
// command with an SDK client that is closed afterwards.
import { Command, Option } from "commander";
import { RaftlineClient } from "../client";

export const devBrokers = "127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003";

export interface ConnectionFlags {
  brokers: string;
}

export function withBrokersOption(command: Command): Command {
  return command.addOption(
    new Option("-b, --brokers <list>", "comma-separated host:port of any brokers").env("RAFTLINE_BROKERS").default(devBrokers),
  );
}

export async function withClient<T>(flags: ConnectionFlags, run: (client: RaftlineClient) => Promise<T>): Promise<T> {
  const brokers = flags.brokers
    .split(",")
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  const client = new RaftlineClient({ brokers, clientId: "raftline-cli" });
  try {
    return await run(client);
  } finally {
    await client.close({ flush: false });
  }
}
