// `raftline acl add|remove|list` and `raftline token create|delete|list`.
import { Command, Option } from "commander";
import type { Acl, AclOperation, AclPatternType, AclResourceType } from "../../client";
import { ConnectionFlags, withBrokersOption, withClient } from "../connection";
import { UsageError } from "../exit-codes";
import { writeOut } from "../output";
import { table } from "../table";

const operations: AclOperation[] = ["produce", "consume", "describe", "create", "delete", "alter", "commit", "all"];

interface AclFlags extends ConnectionFlags {
  principal: string;
  operation: AclOperation[];
  topic?: string;
  group?: string;
  cluster?: boolean;
  prefix?: boolean;
}

interface ListFlags extends ConnectionFlags {
  principal?: string;
  json?: boolean;
}

function collectOperation(value: string, previous: AclOperation[] | undefined): AclOperation[] {
  if (!operations.includes(value as AclOperation)) throw new UsageError(`--operation must be one of ${operations.join(", ")}`);
  return [...(previous ?? []), value as AclOperation];
}

/** One entry per --operation, on the one resource the flags name. */
function aclsOf(flags: AclFlags): Acl[] {
  const named = [flags.topic !== undefined, flags.group !== undefined, flags.cluster === true].filter(Boolean).length;
  if (named !== 1) throw new UsageError("name exactly one resource: --topic NAME, --group NAME or --cluster");
  if (!flags.operation || flags.operation.length === 0) throw new UsageError("at least one --operation is required");
  const resourceType: AclResourceType = flags.topic !== undefined ? "topic" : flags.group !== undefined ? "group" : "cluster";
  const name = flags.topic ?? flags.group ?? "";
  const patternType: AclPatternType = flags.prefix ? "prefix" : "literal";
  return flags.operation.map((operation) => ({ principal: flags.principal, operation, resourceType, patternType, name }));
}

function aclOptions(command: Command): Command {
  return withBrokersOption(command)
    .requiredOption("--principal <name>", "a certificate's common name or a token's principal; '*' = every authenticated principal")
    .addOption(new Option("--operation <op>", `repeatable: ${operations.join(", ")}`).argParser(collectOperation))
    .option("--topic <name>", "a topic (with --prefix: every topic whose name starts with it)")
    .option("--group <id>", "a consumer group (with --prefix: every group whose id starts with it)")
    .option("--cluster", "the cluster (membership, leadership, listing, ACLs and tokens)")
    .option("--prefix", "the name is a prefix");
}

function describeResource(acl: Required<Acl>): string {
  if (acl.resourceType === "cluster") return "cluster";
  return `${acl.resourceType} ${acl.patternType === "prefix" ? `${acl.name}*` : acl.name}`;
}

export function addSecurityCommands(program: Command): void {
  const acl = program.command("acl").description("allow principals operations on topics, groups and the cluster");
  aclOptions(acl.command("add").description("add ACL entries (adding an existing one changes nothing)")).action(async (flags: AclFlags) => {
    await withClient(flags, async (client) => {
      for (const entry of aclsOf(flags)) {
        const added = await client.security().addAcl(entry);
        await writeOut(`${added ? "added" : "exists"}: ${entry.principal} may ${entry.operation} on ${describeResource(entry as Required<Acl>)}\n`);
      }
    });
  });
  aclOptions(acl.command("remove").description("remove ACL entries, given as added")).action(async (flags: AclFlags) => {
    await withClient(flags, async (client) => {
      for (const entry of aclsOf(flags)) {
        await client.security().removeAcl(entry);
        await writeOut(`removed: ${entry.principal} may ${entry.operation} on ${describeResource(entry as Required<Acl>)}\n`);
      }
    });
  });
  withBrokersOption(acl.command("list").description("list ACL entries"))
    .option("--principal <name>", "only this principal's entries")
    .option("--json", "print JSON")
    .action(async (flags: ListFlags) => {
      await withClient(flags, async (client) => {
        const acls = await client.security().listAcls(flags.principal ?? "");
        if (flags.json) return writeOut(JSON.stringify(acls) + "\n");
        await writeOut(table(["PRINCIPAL", "OPERATION", "RESOURCE"], acls.map((a) => [a.principal, a.operation, describeResource(a)])));
      });
    });

  const token = program.command("token").description("bearer tokens: create, delete, list (the cluster stores only their hashes)");
  withBrokersOption(token.command("create").description("create a token for a principal; prints it once").argument("<principal>", "who the token authenticates as"))
    .action(async (principal: string, flags: ConnectionFlags) => {
      await withClient(flags, async (client) => {
        const created = await client.security().createToken(principal);
        await writeOut(`${created.token}\n`);
        process.stderr.write(`token ${created.id} for ${principal}: shown only now, keep it in a file readable by its user only\n`);
      });
    });
  withBrokersOption(token.command("delete").description("delete a token").argument("<id>", "the token's id (token list)"))
    .action(async (id: string, flags: ConnectionFlags) => {
      await withClient(flags, async (client) => {
        await client.security().deleteToken(id);
        await writeOut(`deleted token ${id}\n`);
      });
    });
  withBrokersOption(token.command("list").description("list tokens (ids and principals, never the tokens)"))
    .option("--principal <name>", "only this principal's tokens")
    .option("--json", "print JSON")
    .action(async (flags: ListFlags) => {
      await withClient(flags, async (client) => {
        const tokens = await client.security().listTokens(flags.principal ?? "");
        if (flags.json) return writeOut(JSON.stringify(tokens) + "\n");
        await writeOut(table(["ID", "PRINCIPAL", "CREATED"], tokens.map((t) => [t.id, t.principal, new Date(t.createdAtMs).toISOString()])));
      });
    });
}
