#!/usr/bin/env node
// The `raftline` command: `serve` runs one node, `dev` runs a local three-node cluster.
import { Command } from "commander";
import { addServeCommand } from "./serve-command";
import { addDevCommand } from "./dev-command";

const program = new Command();
program.name("raftline").description("A replicated message log broker: Raft on LevelDB, served over gRPC");
addServeCommand(program);
addDevCommand(program);
program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`raftline: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
