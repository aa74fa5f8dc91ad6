// Who is calling, and may they: authentication from a bearer token or the client certificate's subject,
// and authorization against the replicated ACLs. One object answers for every call of the client port
// (the request guard asks it before any handler runs), so no service decides this on its own.
import * as grpc from "@grpc/grpc-js";
import { createHash, timingSafeEqual } from "node:crypto";
import type { PeerCertificate } from "node:tls";
import { type Access, type SecurityTable, describeAccess } from "../../broker";
import { RpcError } from "../rpc-errors";
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
    if (principal.superuser || principal.node || need.kind === "authenticated") return undefined;
    const table = this.opts.table();
    const denied = need.of(request).find((access: Access) => !table.allows(principal.name, access));
    if (denied === undefined) return undefined;
    return new RpcError(grpc.status.PERMISSION_DENIED, "ERROR_REASON_NOT_AUTHORIZED", `principal "${principal.name}" may not ${describeAccess(denied)}`);
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
    return name === undefined ? notAuthenticated() : this.named(name);
  }

  private named(name: string): Principal {
    return { name, superuser: this.isSuperuser(name), node: false };
  }
}
