// One node's TLS: the certificate, key and CA files, re-read every `certReloadMs` by grpc-js's file
// watcher, so replaced files take effect on new connections without a restart (replace them atomically:
// write elsewhere, then rename). The same provider feeds the client port, the peer port, and the node's
// own outbound links (peers, forwarding, snapshots), which present the node certificate.
import * as grpc from "@grpc/grpc-js";
import { createSecureContext } from "node:tls";
import type { SecurityConfig } from "../config";

type Provider = grpc.experimental.CertificateProvider;
type CaListener = grpc.experimental.CaCertificateUpdateListener;
type IdentityListener = grpc.experimental.IdentityCertificateUpdateListener;
type CaUpdate = Parameters<CaListener>[0];
type IdentityUpdate = Parameters<IdentityListener>[0];

/**
 * Passes on only updates that change something, and keeps the last good files when a read fails or
 * finds a certificate and key that do not match (one replaced, the other not yet): grpc-js would otherwise
 * refuse every new connection until the next good read. The watcher reports every read, and each report
 * would rebuild every TLS context.
 */
class ChangedOnly implements Provider {
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();
  private ca: CaUpdate | undefined;
  private identity: IdentityUpdate | undefined;
  private watching = false;

  constructor(
    private readonly inner: Provider,
    private readonly onUnreadable: () => void,
  ) {}

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    this.watch();
    const ca = this.ca;
    if (ca !== undefined) process.nextTick(() => listener(ca));
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    this.watch();
    const identity = this.identity;
    if (identity !== undefined) process.nextTick(() => listener(identity));
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }

  /** Watches for the node's lifetime: its servers listen until the process ends. */
  private watch(): void {
    if (this.watching) return;
    this.watching = true;
    this.inner.addCaCertificateListener((update) => {
      if (update === null && this.ca) return this.onUnreadable();
      if (this.ca !== undefined && sameBytes(this.ca?.caCertificate, update?.caCertificate)) return;
      this.ca = update;
      for (const l of this.caListeners) l(update);
    });
    this.inner.addIdentityCertificateListener((update) => {
      if ((update === null || !matchingPair(update)) && this.identity) return this.onUnreadable();
      const same = this.identity !== undefined && sameBytes(this.identity?.certificate, update?.certificate) && sameBytes(this.identity?.privateKey, update?.privateKey);
      if (same) return;
      this.identity = update;
      for (const l of this.identityListeners) l(update);
    });
  }
}

/** A certificate and a key that belong together (not one old file and one new mid-rotation). */
function matchingPair(update: { certificate: Buffer; privateKey: Buffer }): boolean {
  try {
    createSecureContext({ cert: update.certificate, key: update.privateKey });
    return true;
  } catch {
    return false;
  }
}

function sameBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === undefined || b === undefined ? a === b : a.equals(b);
}

export class NodeTls {
  private readonly provider: Provider;
  private readonly channel: grpc.ChannelCredentials;

  constructor(security: SecurityConfig, onUnreadable: () => void) {
    this.provider = new ChangedOnly(
      new grpc.experimental.FileWatcherCertificateProvider({
        certificateFile: security.certFile,
        privateKeyFile: security.keyFile,
        caCertificateFile: security.caFile,
        refreshIntervalMs: security.certReloadMs,
      }),
      onUnreadable,
    );
    // One credentials object for every outbound channel: grpc-js then shares its secure context.
    this.channel = grpc.experimental.createCertificateProviderChannelCredentials(this.provider, this.provider);
  }

  /** For the peer port (`requireClientCert` true: mutual TLS) or the client port. */
  serverCredentials(requireClientCert: boolean): grpc.ServerCredentials {
    return grpc.experimental.createCertificateProviderServerCredentials(this.provider, this.provider, requireClientCert);
  }

  channelCredentials(): grpc.ChannelCredentials {
    return this.channel;
  }
}
