// `raftline dev --secure`: a CA and certificates for the local cluster under DATA/tls, made on the first
// secure start and reused after (so clients keep working across restarts): the nodes' certificate, an
// `admin` client certificate, and the superuser's bootstrap token. What serve needs, and how to connect.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { randomBytes, webcrypto } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Authority, createAuthority, issueCertificate, writeAtomically, writeIssued } from "./dev-certificates";

export interface DevSecurity {
  dir: string;
  serveArgs: string[];
  /** Shell lines that point the CLI and the SDK examples at the secure cluster. */
  env: string[];
  superuserToken: string;
}

async function loadAuthority(dir: string): Promise<Authority> {
  const certPem = readFileSync(join(dir, "ca.crt"), "utf8");
  const keyPem = readFileSync(join(dir, "ca.key"), "utf8");
  const cert = new x509.X509Certificate(certPem);
  const privateKey = await webcrypto.subtle.importKey("pkcs8", x509.PemConverter.decodeFirst(keyPem), { name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
  return { cert, certPem, keyPem, keys: { privateKey, publicKey: await cert.publicKey.export() } as unknown as Authority["keys"] };
}

export async function prepareDevSecurity(dataDir: string): Promise<DevSecurity> {
  return prepareCertificates(join(dataDir, "tls"), ["127.0.0.1", "localhost"]);
}

/** The CA, node and admin certificates and the superuser token in `dir`, made if missing; nodes serve as `hosts`. */
export async function prepareCertificates(dir: string, hosts: string[]): Promise<DevSecurity> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = existsSync(join(dir, "ca.key")) ? await loadAuthority(dir) : await createAuthority("raftline dev CA");
  await writeAtomically(join(dir, "ca.key"), ca.keyPem);
  await writeAtomically(join(dir, "ca.crt"), ca.certPem, 0o644);
  if (!existsSync(join(dir, "node.crt"))) {
    await writeIssued(dir, "node", await issueCertificate(ca, { commonName: "raftline-node", hosts }));
  }
  if (!existsSync(join(dir, "admin.crt"))) await writeIssued(dir, "admin", await issueCertificate(ca, { commonName: "admin", hosts: [] }));
  const tokenFile = join(dir, "superuser.token");
  if (!existsSync(tokenFile)) await writeAtomically(tokenFile, `${randomBytes(32).toString("base64url")}\n`);
  const superuserToken = readFileSync(tokenFile, "utf8").trim();
  return {
    dir,
    superuserToken,
    serveArgs: [
      "--tls-cert", join(dir, "node.crt"),
      "--tls-key", join(dir, "node.key"),
      "--tls-ca", join(dir, "ca.crt"),
      "--superuser", "admin",
      "--superuser-token-file", tokenFile,
    ],
    env: [`export RAFTLINE_TLS_CA=${join(dir, "ca.crt")}`, `export RAFTLINE_TOKEN_FILE=${tokenFile}`],
  };
}
