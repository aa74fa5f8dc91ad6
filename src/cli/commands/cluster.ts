// `raftline cluster status|transfer-leader`, and the membership commands.
import { Command } from "commander";
import { addMembershipCommands } from "./cluster-membership";
import { ConnectionFlags, withBrokersOption, withClient } from "../connection";
import { nonNegativeInt } from "../options";
import { writeOut } from "../output";
import { table } from "../table";

interface StatusFlags extends ConnectionFlags {
  json?: boolean;
}

interface TransferFlags extends ConnectionFlags {
  to: number;
}

export function addClusterCommands(program: Command): void {
  const cluster = program.command("cluster").description("the nodes and their raft state; leadership");

  withBrokersOption(cluster.command("status").description("nodes, roles, term, commit and applied index, lag; damaged storage"))
    .option("--json", "print JSON")
    .action(async (flags: StatusFlags) => {
      await withClient(flags, async (client) => {
        const c = await client.admin().describeCluster();
        if (flags.json) return writeOut(JSON.stringify(c) + "\n");
        await writeOut(c.leaderId ? `leader: node ${c.leaderId}\n` : "no leader\n");
        const withHttp = c.nodes.some((n) => n.httpAddress);
        await writeOut(
          table(
            ["NODE", "ADDRESS", "ROLE", "VOTER", "TERM", "COMMIT", "APPLIED", "LAG", ...(withHttp ? ["DASHBOARD"] : [])],
            c.nodes.map((n) => [
              n.id,
              n.address,
              n.reachable ? n.role.replace("NODE_ROLE_", "").toLowerCase() : "unreachable",
              n.voter ? "yes" : "no",
              n.reachable ? n.term : "-",
              n.reachable ? n.commitIndex : "-",
              n.reachable ? n.appliedIndex : "-",
              n.lag ?? "-",
              ...(withHttp ? [n.httpAddress ? `http://${n.httpAddress}/` : "-"] : []),
            ]),
          ),
        );
        for (const n of c.nodes.filter((x) => x.storageDamage !== "")) await writeOut(`node ${n.id} storage: ${n.storageDamage}\n`);
      });
    });

  withBrokersOption(cluster.command("transfer-leader").description("move leadership to another node; answers once it leads"))
    .option("--to <id>", "the node to lead; 0 = the most caught-up follower", nonNegativeInt("--to"), 0)
    .action(async (flags: TransferFlags) => {
      await withClient(flags, async (client) => {
        const r = await client.admin().transferLeadership(flags.to);
        await writeOut(`leader: node ${r.leaderId} (was node ${r.previousLeaderId})\n`);
      });
    });

  addMembershipCommands(cluster);
}
