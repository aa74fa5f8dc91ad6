#!/usr/bin/env -S node --initial-heap-size=128
// The `raftline` command: `serve` runs one node, `dev` a local three-node cluster; the others are clients
// of a running cluster, one file per command group under commands/. Exit codes: see exit-codes.ts.
import { Command, CommanderError } from "commander";
import { addClusterCommands } from "./commands/cluster";
import { addConsumeCommand } from "./commands/consume";
import { addGroupCommands } from "./commands/group";
import { addProduceCommand } from "./commands/produce";
import { addQueueCommands } from "./commands/queue";
import { addSecurityCommands } from "./commands/security";
import { addTopicCommands } from "./commands/topic";
import { addDevCommand } from "./dev-command";
import { addCertsCommand } from "./certs-command";
import { describeFailure, exitCodes } from "./exit-codes";
import { addServeCommand } from "./serve-command";

const program = new Command();
program
  .name("raftline")
  .description("A replicated message log broker: Raft on LevelDB, served over gRPC")
  .addHelpText(
    "after",
    "\nExit codes: 0 ok, 1 the cluster refused or failed the request, 2 bad usage, 3 no broker reachable.\n" +
      "Client commands take --brokers (env RAFTLINE_BROKERS, default: the `raftline dev` cluster).",
  )
  // Subcommands inherit this: commander throws instead of exiting, and usage errors exit with 2 below.
  .exitOverride();
addServeCommand(program);
addDevCommand(program);
addCertsCommand(program);
addTopicCommands(program);
addGroupCommands(program);
addProduceCommand(program);
addConsumeCommand(program);
addQueueCommands(program);
addClusterCommands(program);
addSecurityCommands(program);

// Success leaves the process to end by itself: servers keep running, and piped output is not cut short.
program.parseAsync(process.argv).catch(
  (err: unknown) => {
    if (err instanceof CommanderError) {
      // Commander has already printed the help or the usage message.
      process.exit(err.exitCode === 0 ? exitCodes.ok : exitCodes.usage);
    }
    const failure = describeFailure(err);
    process.stderr.write(`raftline: ${failure.message}\n`);
    process.exit(failure.code);
  },
);
