// `raftline cluster add-node|remove-node|replace-node|promote-learner`: membership changes, one at a time,
// each answered once the leader has applied it.
import { Command } from "commander";
import type { Membership } from "../../client";
import { ConnectionFlags, withBrokersOption, withClient } from "../connection";
import { nonNegativeInt } from "../options";
import { writeOut } from "../output";

interface AddFlags extends ConnectionFlags {
  id: number;
  client: string;
  peer: string;
  stayLearner?: boolean;
}

interface NodeFlags extends ConnectionFlags {
  id: number;
}

function describe(m: Membership): string {
  return `voters: ${m.voters.join(", ") || "none"}; learners: ${m.learners.join(", ") || "none"}\n`;
}

export function addMembershipCommands(cluster: Command): void {
  withBrokersOption(cluster.command("add-node").description("add a node as a learner; it becomes a voter once caught up"))
    .requiredOption("--id <n>", "the new node's id (unused in this cluster)", nonNegativeInt("--id"))
    .requiredOption("--client <host:port>", "where clients reach the new node")
    .requiredOption("--peer <host:port>", "where the other nodes reach its raft port")
    .option("--stay-learner", "keep it a learner until promote-learner")
    .action(async (flags: AddFlags) => {
      await withClient(flags, async (client) => {
        const m = await client.admin().addNode({ nodeId: flags.id, clientAddress: flags.client, peerAddress: flags.peer, stayLearner: flags.stayLearner });
        await writeOut(`added node ${flags.id}; start it with: raftline serve --id ${flags.id} --member ${flags.id}=${flags.client},${flags.peer} --join <any member> --data-dir <empty dir>\n`);
        await writeOut(describe(m));
      });
    });

  withBrokersOption(cluster.command("remove-node").description("remove a voter or learner (a leader hands over first)"))
    .requiredOption("--id <n>", "the node to remove", nonNegativeInt("--id"))
    .action(async (flags: NodeFlags) => {
      await withClient(flags, async (client) => writeOut(describe(await client.admin().removeNode(flags.id))));
    });

  withBrokersOption(cluster.command("replace-node").description("give a lost node's slot to a new incarnation (same id and addresses, empty data dir)"))
    .requiredOption("--id <n>", "the node to replace", nonNegativeInt("--id"))
    .action(async (flags: NodeFlags) => {
      await withClient(flags, async (client) => writeOut(describe(await client.admin().replaceNode(flags.id))));
    });

  withBrokersOption(cluster.command("promote-learner").description("make a caught-up learner a voter now"))
    .requiredOption("--id <n>", "the learner", nonNegativeInt("--id"))
    .action(async (flags: NodeFlags) => {
      await withClient(flags, async (client) => writeOut(describe(await client.admin().promoteLearner(flags.id))));
    });
}
