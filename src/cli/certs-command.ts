// `raftline certs`: the files of `raftline dev --secure` for a deployment without an operator CA (the
// secure docker-compose). The certificate library loads only when a command needs it.
import type { Command } from "commander";

export function addCertsCommand(program: Command): void {
  program
    .command("certs")
    .description("make a CA, a node certificate, an admin client certificate and a superuser token in a folder (kept if present)")
    .requiredOption("--dir <dir>", "where to write them")
    .option("--host <name>", "a DNS name or IP address the nodes serve under; repeat (default 127.0.0.1 and localhost)", (v: string, p: string[] | undefined) => [...(p ?? []), v])
    .action(async (flags: { dir: string; host?: string[] }) => {
      const { prepareCertificates } = await import("./dev-security");
      const made = await prepareCertificates(flags.dir, flags.host ?? ["127.0.0.1", "localhost"]);
      process.stdout.write(`certificates and the superuser token are in ${made.dir}\n`);
    });
}
