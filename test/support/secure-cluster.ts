// A cluster with security on, for tests: a fresh CA, one node certificate shared by the nodes (common name
// raftline-node, serving 127.0.0.1 and localhost), a bootstrap superuser token, and helpers that issue
// client certificates. Everything lives in a temporary folder removed by the cluster's cleanup.
import * as grpc from "@grpc/grpc-js";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { RaftlineClientOptions } from "../../src/client";
import { type Authority, createAuthority, issueCertificate, writeAtomically, writeIssued } from "../../src/cli/dev-certificates";
import { type Cluster, type ClusterOptions, startCluster } from "./cluster";
import type { connectionDefaults } from "./connection-defaults";

export interface SecureMaterial {
  dir: string;
  ca: Authority;
  caFile: string;
  node: { cert: string; key: string };
  superuserToken: string;
  superuserTokenFile: string;
  serveArgs: string[];
}

/** Files live until the process exits (nodes re-read them), or until `cleanup` is called. */
export async function secureMaterial(name = "test"): Promise<SecureMaterial> {
  const dir = mkdtempSync(join(tmpdir(), `raftline-tls-${name}-`));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  const ca = await createAuthority(`raftline ${name} CA`);
  const caFile = join(dir, "ca.crt");
  await writeAtomically(caFile, ca.certPem, 0o644);
  const node = await writeIssued(dir, "node", await issueCertificate(ca, { commonName: "raftline-node", hosts: ["127.0.0.1", "localhost"] }));
  const superuserToken = randomBytes(24).toString("base64url");
  const superuserTokenFile = join(dir, "superuser.token");
  await writeAtomically(superuserTokenFile, superuserToken);
  const serveArgs = [
    "--tls-cert", node.cert,
    "--tls-key", node.key,
    "--tls-ca", caFile,
    "--superuser-token-file", superuserTokenFile,
  ];
  return { dir, ca, caFile, node, superuserToken, superuserTokenFile, serveArgs };
}

/** A client certificate whose common name is `principal`, signed by `ca`. */
export async function clientCertificate(ca: Authority, principal: string): Promise<{ cert: string; key: string }> {
  const issued = await issueCertificate(ca, { commonName: principal, hosts: [] });
  return { cert: issued.certPem, key: issued.keyPem };
}

/** Raw gRPC credentials: TLS with the cluster's CA, and the superuser's token on every call. */
export function superuserCredentials(m: SecureMaterial): grpc.ChannelCredentials {
  const bearer = grpc.credentials.createFromMetadataGenerator((_params, callback) => {
    const md = new grpc.Metadata();
    md.set("authorization", `Bearer ${m.superuserToken}`);
    callback(null, md);
  });
  return grpc.credentials.combineChannelCredentials(grpc.credentials.createSsl(Buffer.from(m.ca.certPem)), bearer);
}

export function asSuperuser(m: SecureMaterial): Partial<RaftlineClientOptions> {
  return { tls: { ca: m.ca.certPem }, token: m.superuserToken };
}

export async function startSecureCluster(options: ClusterOptions = {}, material?: SecureMaterial): Promise<{ cluster: Cluster; material: SecureMaterial }> {
  const m = material ?? (await secureMaterial());
  const cluster = await startCluster({
    ...options,
    extraArgs: [...m.serveArgs, ...(options.extraArgs ?? [])],
    clientDefaults: { ...asSuperuser(m), ...options.clientDefaults },
  });
  return { cluster, material: m };
}

/** Every harness client as the superuser; the fault switch on the peer port with the node certificate. */
export function secureConnection(m: SecureMaterial): ReturnType<typeof connectionDefaults> {
  return {
    client: asSuperuser(m),
    credentials: () => superuserCredentials(m),
    peerCredentials: () => grpc.credentials.createSsl(Buffer.from(m.ca.certPem), readFileSync(m.node.key), readFileSync(m.node.cert)),
  };
}
