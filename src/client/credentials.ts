// How the SDK authenticates: TLS with the cluster's CA (optionally presenting a client certificate, whose
// subject common name is the principal), and a bearer token sent with every call. A token is sent only
// over TLS: gRPC refuses call credentials on a plaintext channel.
import * as grpc from "@grpc/grpc-js";

export interface TlsOptions {
  /** The CA that signed the brokers' certificates (PEM). Absent: the system's trusted CAs. */
  ca?: Buffer | string;
  /** A client certificate and its key (PEM), when the cluster authenticates clients by certificate. */
  cert?: Buffer | string;
  key?: Buffer | string;
}

export interface SecurityOptions {
  /** Connect with TLS; `true` trusts the system's CAs. */
  tls?: TlsOptions | boolean;
  /** A bearer token (from `raftline token create`); needs `tls`. */
  token?: string;
}

const asBuffer = (v: Buffer | string | undefined): Buffer | null => (v === undefined ? null : Buffer.isBuffer(v) ? v : Buffer.from(v));

export function channelCredentials(options: SecurityOptions): grpc.ChannelCredentials {
  if (!options.tls) {
    if (options.token !== undefined) throw new RangeError("a token is sent only over TLS: set tls as well");
    return grpc.credentials.createInsecure();
  }
  const tls = options.tls === true ? {} : options.tls;
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new RangeError("tls.cert and tls.key go together");
  const ssl = grpc.credentials.createSsl(asBuffer(tls.ca), asBuffer(tls.key), asBuffer(tls.cert));
  const token = options.token;
  if (token === undefined) return ssl;
  const bearer = grpc.credentials.createFromMetadataGenerator((_params, callback) => {
    const md = new grpc.Metadata();
    md.set("authorization", `Bearer ${token}`);
    callback(null, md);
  });
  return grpc.credentials.combineChannelCredentials(ssl, bearer);
}
