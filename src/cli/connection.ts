// --brokers and the security options for every client command (env RAFTLINE_BROKERS, RAFTLINE_TLS_CA,
// RAFTLINE_TLS_CERT, RAFTLINE_TLS_KEY, RAFTLINE_TOKEN_FILE; default: the plain dev cluster), and running a
// command with an SDK client that is closed afterwards. The token is read from a file, never a flag, so
// it stays out of process listings and shell history.
import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { RaftlineClient } from "../client";
import { UsageError } from "./exit-codes";

export const devBrokers = "127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003";

export interface ConnectionFlags {
  brokers: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  tokenFile?: string;
}

export function withBrokersOption(command: Command): Command {
  return command
    .addOption(new Option("-b, --brokers <list>", "comma-separated host:port of any brokers").env("RAFTLINE_BROKERS").default(devBrokers))
    .addOption(new Option("--tls-ca <file>", "connect with TLS, trusting this CA (PEM)").env("RAFTLINE_TLS_CA"))
    .addOption(new Option("--tls-cert <file>", "client certificate (PEM); its subject common name is the principal").env("RAFTLINE_TLS_CERT"))
    .addOption(new Option("--tls-key <file>", "the client certificate's key (PEM)").env("RAFTLINE_TLS_KEY"))
    .addOption(new Option("--token-file <file>", "file holding a bearer token (raftline token create)").env("RAFTLINE_TOKEN_FILE"));
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`cannot read the ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
  }
}

export function clientSecurity(flags: ConnectionFlags): Pick<ConstructorParameters<typeof RaftlineClient>[0], "tls" | "token"> {
  if (flags.tlsCa === undefined && flags.tlsCert === undefined && flags.tokenFile === undefined) return {};
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new UsageError("--tls-cert and --tls-key go together");
  const tls = {
    ca: flags.tlsCa === undefined ? undefined : read(flags.tlsCa, "CA file"),
    cert: flags.tlsCert === undefined ? undefined : read(flags.tlsCert, "certificate file"),
    key: flags.tlsKey === undefined ? undefined : read(flags.tlsKey, "key file"),
  };
  const token = flags.tokenFile === undefined ? undefined : read(flags.tokenFile, "token file").toString("utf8").trim();
  return token === undefined ? { tls } : { tls, token };
}

export async function withClient<T>(flags: ConnectionFlags, run: (client: RaftlineClient) => Promise<T>): Promise<T> {
  const brokers = flags.brokers
    .split(",")
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  const client = new RaftlineClient({ brokers, clientId: "raftline-cli", ...clientSecurity(flags) });
  try {
    return await run(client);
  } finally {
    await client.close({ flush: false });
  }
}
