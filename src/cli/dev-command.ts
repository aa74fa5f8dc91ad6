// `raftline dev`: a local three-node (or, with --nodes, larger) cluster on 127.0.0.1 with data under
// ./data, for trying Raftline out. Each node is a real `raftline serve` child process; Ctrl-C stops them gracefully.
import { Command } from "commander";
import { ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseNodeEvent } from "../server/node-events";
import type { DevSecurity } from "./dev-security";
import { UsageError } from "./exit-codes";
import { serverNodeFlags } from "./server-node-flags";

interface DevFlags {
  dataDir: string;
  clientPort: string;
  peerPort: string;
  httpPort: string;
  kafkaPort: string;
  nodes: string;
  secure?: boolean;
}

const defaultNodeCount = 3;
/** An even count adds a node without adding fault tolerance; beyond seven, raft's quorums get slow. */
const allowedNodeCounts = [1, 3, 5, 7];
const stopGraceMs = 15000;

export function addDevCommand(program: Command): void {
  program
    .command("dev")
    .description("run a local cluster of three nodes (--nodes for another count) on 127.0.0.1, data under ./data; Ctrl-C stops it")
    .option("--data-dir <dir>", "parent directory for the nodes' data and logs", "data")
    .option("--client-port <port>", "first client port (node N uses this + N - 1)", "7001")
    .option("--peer-port <port>", "first peer port (node N uses this + N - 1)", "7101")
    .option("--http-port <port>", "first HTTP port for metrics and the dashboard (node N uses this + N - 1)", "8001")
    .option("--kafka-port <port>", "first Kafka-protocol port (node N uses this + N - 1)", "9092")
    .option("--nodes <n>", `how many nodes: ${allowedNodeCounts.join(", ")}`, String(defaultNodeCount))
    .option("--secure", "security on: a CA and certificates under DATA/tls (made once), TLS and mutual TLS, a superuser token; the Kafka listener stays off")
    .action(async (flags: DevFlags) => {
      const nodeCount = Number(flags.nodes);
      if (!allowedNodeCounts.includes(nodeCount)) throw new UsageError(`--nodes must be one of ${allowedNodeCounts.join(", ")}, got "${flags.nodes}"`);
      const ports = { client: Number(flags.clientPort), peer: Number(flags.peerPort), http: Number(flags.httpPort), kafka: Number(flags.kafkaPort) };
      const dataDir = resolve(flags.dataDir);
      const security = flags.secure ? await (await import("./dev-security")).prepareDevSecurity(dataDir) : undefined;
      await runDevCluster(dataDir, ports, nodeCount, security);
    });
}

interface DevPorts {
  client: number;
  peer: number;
  http: number;
  kafka: number;
}

async function runDevCluster(dataDir: string, ports: DevPorts, nodeCount: number, security: DevSecurity | undefined): Promise<void> {
  const ids = Array.from({ length: nodeCount }, (_, i) => i + 1);
  const members = ids.map((id) => `${id}=127.0.0.1:${ports.client + id - 1},127.0.0.1:${ports.peer + id - 1}`);
  // The Kafka listener speaks neither TLS nor SASL yet: a secure cluster runs without it.
  const kafkaMembers = security ? [] : ids.map((id) => `${id}=127.0.0.1:${ports.kafka + id - 1}`);
  mkdirSync(join(dataDir, "logs"), { recursive: true });
  const children = new Map<number, ChildProcess>();
  const ready = new Map<number, { http?: string; kafka?: string }>();
  let stopping = false;

  const stopAll = (): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write("\nstopping the cluster...\n");
    for (const child of children.values()) child.kill("SIGTERM");
    setTimeout(() => {
      for (const child of children.values()) child.kill("SIGKILL");
    }, stopGraceMs).unref();
  };
  process.on("SIGINT", stopAll);
  process.on("SIGTERM", stopAll);

  const exits = ids.map((id) => {
    const log = createWriteStream(join(dataDir, "logs", `node-${id}.log`), { flags: "a" });
    const args = [...serverNodeFlags, process.argv[1], "serve", "--id", String(id), "--data-dir", join(dataDir, `node-${id}`)];
    args.push("--http-address", `127.0.0.1:${ports.http + id - 1}`);
    for (const m of members) args.push("--member", m);
    for (const m of kafkaMembers) args.push("--kafka-member", m);
    args.push(...(security?.serveArgs ?? []));
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe", "ipc"] });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    children.set(id, child);
    child.on("message", (raw: unknown) => {
      const event = parseNodeEvent(raw);
      if (event?.kind === "serving") {
        ready.set(id, { http: event.httpAddress, kafka: event.kafkaAddress });
        if (ready.size === nodeCount) printEndpoints(dataDir, ports.client, ready, security);
      } else if (event?.kind === "leader") {
        process.stdout.write(`node ${id} is the leader (term ${event.term})\n`);
      }
    });
    return new Promise<void>((done) =>
      child.on("exit", (code, signal) => {
        children.delete(id);
        if (!stopping) {
          process.stdout.write(`node ${id} exited (${signal ?? code}); see ${join(dataDir, "logs", `node-${id}.log`)}\n`);
          stopAll();
        }
        done();
      }),
    );
  });
  await Promise.all(exits);
  process.stdout.write("cluster stopped; data kept in " + dataDir + "\n");
}

function printEndpoints(
  dataDir: string,
  clientPort: number,
  addresses: Map<number, { http?: string; kafka?: string }>,
  security: DevSecurity | undefined,
): void {
  const ids = [...addresses.keys()].sort((a, b) => a - b);
  const scheme = security ? "https" : "http";
  const lines = ids.map((id) => {
    const { http, kafka } = addresses.get(id) ?? {};
    const web = http ? `   dashboard ${scheme}://${http}/   metrics ${scheme}://${http}/metrics` : "";
    return `  node ${id}: 127.0.0.1:${clientPort + id - 1}${kafka ? `   kafka ${kafka}` : ""}${web}`;
  });
  const kafkaBootstrap = ids.map((id) => addresses.get(id)?.kafka).filter((a) => a !== undefined).join(",");
  if (security) {
    // The token itself is not printed: it stays in its file (readable by this user only).
    process.stdout.write(
      `Security is on (TLS everywhere, mutual TLS between nodes; certificates in ${security.dir}).\n` +
        `Connect as the superuser "admin" with its token (or with the certificate ${join(security.dir, "admin.crt")} and its key):\n` +
        `  ${security.env.join("\n  ")}\n` +
        `Dashboards and metrics want the token: open ${scheme}://${addresses.get(ids[0])?.http ?? "HOST:PORT"}/?token=$(cat ${join(security.dir, "superuser.token")})\n` +
        `  (your browser will warn about the dev CA: trust ${join(security.dir, "ca.crt")} or accept it)\n`,
    );
  }
  process.stdout.write(
    `Raftline cluster is up. Client endpoints (gRPC, any node serves every call), dashboards and metrics:\n${lines.join("\n")}\n` +
      `Try: raftline topic create hello && echo hi | raftline produce hello && raftline consume hello\n` +
      (kafkaBootstrap ? `Kafka clients: bootstrap servers ${kafkaBootstrap} (e.g. kcat -b ${kafkaBootstrap} -L)\n` : "") +
      `data and logs: ${dataDir}\nCtrl-C stops it.\n`,
  );
}
