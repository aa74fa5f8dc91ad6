// A certificate authority and certificates for a local secure cluster (`raftline dev --secure`, tests):
// ECDSA P-256 keys, one CA, node certificates that serve and connect (mutual TLS between peers), and
// client certificates whose subject common name is the principal. Not for production: keys are written
// unencrypted, and the CA key sits beside the certificates it signed.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { webcrypto } from "node:crypto";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type KeyPair = webcrypto.CryptoKeyPair;

const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const dayMs = 24 * 60 * 60 * 1000;

export interface Authority {
  certPem: string;
  keyPem: string;
  cert: x509.X509Certificate;
  keys: KeyPair;
}

export interface IssuedPem {
  certPem: string;
  keyPem: string;
}

function serial(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString("hex").replace(/^[89a-f]/, "1");
}

async function keyPem(keys: KeyPair): Promise<string> {
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  return x509.PemConverter.encode(pkcs8, "PRIVATE KEY");
}

function newKeys(): Promise<KeyPair> {
  return webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"]) as Promise<KeyPair>;
}

export async function createAuthority(commonName: string, validDays = 3650): Promise<Authority> {
  const keys = await newKeys();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}`,
    notBefore: new Date(now - dayMs),
    notAfter: new Date(now + validDays * dayMs),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys, certPem: cert.toString("pem"), keyPem: await keyPem(keys) };
}

export interface CertificateRequest {
  /** The subject's common name: a client's principal, or the nodes' shared principal. */
  commonName: string;
  /** DNS names and IP addresses it serves under; empty for a client-only certificate. */
  hosts: string[];
  validDays?: number;
}

const ipPattern = /^(\d{1,3}\.){3}\d{1,3}$|:/;

export async function issueCertificate(ca: Authority, request: CertificateRequest): Promise<IssuedPem> {
  const keys = await newKeys();
  const now = Date.now();
  const usages = [x509.ExtendedKeyUsage.clientAuth, ...(request.hosts.length > 0 ? [x509.ExtendedKeyUsage.serverAuth] : [])];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(usages, false),
    await x509.AuthorityKeyIdentifierExtension.create(ca.cert, false),
  ];
  if (request.hosts.length > 0) {
    const names = request.hosts.map((h) => ({ type: ipPattern.test(h) ? ("ip" as const) : ("dns" as const), value: h }));
    extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${request.commonName}`,
    issuer: ca.cert.subject,
    notBefore: new Date(now - dayMs),
    notAfter: new Date(now + (request.validDays ?? 825) * dayMs),
    signingKey: ca.keys.privateKey,
    publicKey: keys.publicKey,
    signingAlgorithm: algorithm,
    extensions,
  });
  return { certPem: cert.toString("pem"), keyPem: await keyPem(keys) };
}

/** Writes `content` so that a reader (a node reloading its certificates) never sees half a file. */
export async function writeAtomically(path: string, content: string, mode = 0o600): Promise<void> {
  const staged = `${path}.${process.pid}.tmp`;
  await writeFile(staged, content, { mode });
  await rename(staged, path);
}

/** The files of one certificate: DIR/NAME.crt and DIR/NAME.key. */
export async function writeIssued(dir: string, name: string, issued: IssuedPem): Promise<{ cert: string; key: string }> {
  await mkdir(dir, { recursive: true });
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  await writeAtomically(key, issued.keyPem);
  await writeAtomically(cert, issued.certPem, 0o644);
  return { cert, key };
}
