// Who is calling, and may they: authentication from a bearer token or the client certificate's subject,
// and authorization against the replicated ACLs. One object answers for every call of the client port
// (the request guard asks it before any handler runs), so no service decides this on its own.
import * as grpc from "@grpc/grpc-js";
import { createHash, timingSafeEqual } from "node:crypto";
import type { PeerCertificate } from "node:tls";
import { type Access, type SecurityTable, describeAccess } from "../../broker";
import { RpcError } from "../rpc-errors";
import { OpenStreams } from "./open-streams";
import type { RpcNeed } from "./rpc-access";

/**
 * The principal a follower forwards a call under. Trusted only from a connection that presented a node
 * certificate; from anyone else it is dropped.
 */
export const principalHeader = "raftline-principal-bin";

export interface Principal {
  name: string;
  superuser: boolean;
  /** A peer node acting for itself (not forwarding a caller): allowed everything. */
  node: boolean;
  /** The hash of the replicated token it authenticated with: deleting that token ends its open streams. */
  tokenHash?: string;
}

export interface CallIdentity {
  metadata: grpc.Metadata;
  getAuthContext(): { sslPeerCertificate?: PeerCertificate };
}

export interface AccessControlOptions {
  superuser: string;
  nodePrincipal: string;
  /** The superuser's bootstrap token, when configured. */
  superuserToken?: string;
  /** The replicated ACLs and tokens, as applied on this node. */
  table(): SecurityTable;
}

export function tokenHash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** The same words for every failure, so a caller cannot tell a wrong token from an unknown or malformed one. */
const notAuthenticated = (): RpcError =>
  new RpcError(grpc.status.UNAUTHENTICATED, "ERROR_REASON_UNAUTHENTICATED", "authentication failed: present a valid bearer token or client certificate");

/** A verified certificate's subject common name (the principal it stands for). */
export function commonName(cert: PeerCertificate | undefined): string | undefined {
  const cn: unknown = cert?.subject?.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  return typeof name === "string" && name.length > 0 ? name : undefined;
}

export class AccessControl {
  private readonly superuserTokenHash: Buffer | undefined;
  /** Streams open under a principal that can lose its token or permissions (the request guard adds them). */
  readonly streams = new OpenStreams();
  private tableSeen: { table: SecurityTable; version: number } | undefined;

  constructor(private readonly opts: AccessControlOptions) {
    this.superuserTokenHash = opts.superuserToken ? Buffer.from(tokenHash(opts.superuserToken), "hex") : undefined;
  }

  /**
   * The caller's principal, or UNAUTHENTICATED. Marks the call's metadata with it, so that a forward to
   * the leader carries it; a principal header from anyone but a node is removed first.
   */
  authenticate(call: CallIdentity): Principal | RpcError {
    const certName = commonName(call.getAuthContext().sslPeerCertificate);
    const fromNode = certName === this.opts.nodePrincipal;
    const forwarded = call.metadata.get(principalHeader)[0];
    call.metadata.remove(principalHeader);
    const principal = this.identify(call.metadata, certName, fromNode, forwarded);
    if (principal instanceof RpcError) return principal;
    if (!principal.node) call.metadata.set(principalHeader, Buffer.from(principal.name, "utf8"));
    return principal;
  }

  /** Undefined when `principal` may make this call with this request; PERMISSION_DENIED otherwise. */
  authorize(principal: Principal, need: RpcNeed | undefined, request: unknown): RpcError | undefined {
    if (need === undefined) return new RpcError(grpc.status.PERMISSION_DENIED, "ERROR_REASON_NOT_AUTHORIZED", "this rpc has no access rule; nobody may call it");
    if (need.kind === "authenticated") return undefined;
    return this.denied(principal, need.of(request));
  }

  /**
   * Whether a principal admitted earlier (an open stream's) still is, after the ACLs or tokens changed:
   * UNAUTHENTICATED once its token is deleted, PERMISSION_DENIED once it lacks one of `accesses`.
   */
  recheck(principal: Principal, accesses: Iterable<Access>): RpcError | undefined {
    if (principal.tokenHash !== undefined && this.opts.table().principalOfTokenHash(principal.tokenHash) !== principal.name) return notAuthenticated();
    return this.denied(principal, accesses);
  }

  /**
   * Called after every apply: when the ACLs or tokens changed since the last call, judges every open stream
   * again and ends those refused now. Returns how many were ended.
   */
  securityApplied(): number {
    const table = this.opts.table();
    if (this.tableSeen?.table === table && this.tableSeen.version === table.version) return 0;
    this.tableSeen = { table, version: table.version };
    return this.streams.recheck((principal, accesses) => this.recheck(principal, accesses));
  }

  private denied(principal: Principal, accesses: Iterable<Access>): RpcError | undefined {
    if (principal.superuser || principal.node) return undefined;
    const table = this.opts.table();
    for (const access of accesses) {
      if (!table.allows(principal.name, access)) {
        return new RpcError(grpc.status.PERMISSION_DENIED, "ERROR_REASON_NOT_AUTHORIZED", `principal "${principal.name}" may not ${describeAccess(access)}`);
      }
    }
    return undefined;
  }

  isSuperuser(name: string): boolean {
    return name === this.opts.superuser;
  }

  private identify(md: grpc.Metadata, certName: string | undefined, fromNode: boolean, forwarded: grpc.MetadataValue | undefined): Principal | RpcError {
    if (fromNode && forwarded !== undefined) {
      const name = Buffer.isBuffer(forwarded) ? forwarded.toString("utf8") : forwarded;
      return name.length > 0 ? this.named(name) : notAuthenticated();
    }
    const authorization = md.get("authorization");
    if (authorization.length > 0) return this.byToken(authorization);
    if (fromNode) return { name: this.opts.nodePrincipal, superuser: false, node: true };
    if (certName !== undefined) return this.named(certName);
    return notAuthenticated();
  }

  private byToken(values: grpc.MetadataValue[]): Principal | RpcError {
    const match = values.length === 1 && typeof values[0] === "string" ? /^Bearer (\S{1,512})$/i.exec(values[0]) : null;
    if (!match) return notAuthenticated();
    const hash = tokenHash(match[1]);
    if (this.superuserTokenHash && timingSafeEqual(this.superuserTokenHash, Buffer.from(hash, "hex"))) return this.named(this.opts.superuser);
    const name = this.opts.table().principalOfTokenHash(hash);
    return name === undefined ? notAuthenticated() : { ...this.named(name), tokenHash: hash };
  }

  private named(name: string): Principal {
    return { name, superuser: this.isSuperuser(name), node: false };
  }
}
