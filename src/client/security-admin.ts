// ACLs and tokens (Admin's security rpcs, admin.proto). Changes go to the leader; AddAcl is idempotent
// and so retried like any call, CreateToken is not (a retry would make a second token) and is tried once.
import type { AddAclResponse__Output } from "../generated/raftline/v1/AddAclResponse";
import type { CreateTokenResponse__Output } from "../generated/raftline/v1/CreateTokenResponse";
import type { ListAclsResponse__Output } from "../generated/raftline/v1/ListAclsResponse";
import type { ListTokensResponse__Output } from "../generated/raftline/v1/ListTokensResponse";
import type { WhoAmIResponse__Output } from "../generated/raftline/v1/WhoAmIResponse";
import type { Acl as ProtoAcl, Acl__Output } from "../generated/raftline/v1/Acl";
import type { CallRunner } from "./call-runner";
import { callUnary } from "./call-runner";
import { defaultRetryPolicy } from "./retry";

export type AclOperation = "produce" | "consume" | "describe" | "create" | "delete" | "alter" | "commit" | "all";
export type AclResourceType = "topic" | "group" | "cluster";
export type AclPatternType = "literal" | "prefix";

export interface Acl {
  /** A certificate's subject common name or a token's principal; "*" = every authenticated principal. */
  principal: string;
  operation: AclOperation;
  resourceType: AclResourceType;
  /** Default "literal". */
  patternType?: AclPatternType;
  /** "" for the cluster. */
  name?: string;
}

export interface TokenInfo {
  id: string;
  principal: string;
  createdAtMs: number;
}

function toProto(acl: Acl): ProtoAcl {
  return {
    principal: acl.principal,
    operation: `ACL_OPERATION_${acl.operation.toUpperCase()}` as ProtoAcl["operation"],
    resourceType: `RESOURCE_TYPE_${acl.resourceType.toUpperCase()}` as ProtoAcl["resourceType"],
    patternType: `PATTERN_TYPE_${(acl.patternType ?? "literal").toUpperCase()}` as ProtoAcl["patternType"],
    resourceName: acl.name ?? "",
  };
}

const lower = <T extends string>(value: string, prefix: string): T => value.slice(prefix.length).toLowerCase() as T;

function fromProto(acl: Acl__Output): Required<Acl> {
  return {
    principal: acl.principal,
    operation: lower<AclOperation>(String(acl.operation), "ACL_OPERATION_"),
    resourceType: lower<AclResourceType>(String(acl.resourceType), "RESOURCE_TYPE_"),
    patternType: lower<AclPatternType>(String(acl.patternType), "PATTERN_TYPE_"),
    name: acl.resourceName,
  };
}

export class SecurityAdmin {
  constructor(
    private readonly runner: CallRunner,
    private readonly requestTimeoutMs: number,
  ) {}

  /** Resolves false when the same entry existed already. */
  async addAcl(acl: Acl): Promise<boolean> {
    const res = await this.runner.run(true, (s) =>
      callUnary<AddAclResponse__Output>(s.address, this.requestTimeoutMs, (o, done) => s.admin.AddAcl({ acl: toProto(acl) }, o, done)),
    );
    return res.added;
  }

  async removeAcl(acl: Acl): Promise<void> {
    await this.runner.run(true, (s) => callUnary(s.address, this.requestTimeoutMs, (o, done) => s.admin.RemoveAcl({ acl: toProto(acl) }, o, done)));
  }

  async listAcls(principal = ""): Promise<Required<Acl>[]> {
    const res = await this.runner.run(true, (s) =>
      callUnary<ListAclsResponse__Output>(s.address, this.requestTimeoutMs, (o, done) => s.admin.ListAcls({ principal }, o, done)),
    );
    return res.acls.map(fromProto);
  }

  /** The token is in this answer only: the cluster keeps its hash. */
  async createToken(principal: string): Promise<{ id: string; token: string }> {
    const res = await this.runner.run(
      true,
      (s) => callUnary<CreateTokenResponse__Output>(s.address, this.requestTimeoutMs, (o, done) => s.admin.CreateToken({ principal }, o, done)),
      { ...defaultRetryPolicy, maxAttempts: 1 },
    );
    return { id: res.tokenId, token: res.token };
  }

  async deleteToken(id: string): Promise<void> {
    await this.runner.run(true, (s) => callUnary(s.address, this.requestTimeoutMs, (o, done) => s.admin.DeleteToken({ tokenId: id }, o, done)));
  }

  async listTokens(principal = ""): Promise<TokenInfo[]> {
    const res = await this.runner.run(true, (s) =>
      callUnary<ListTokensResponse__Output>(s.address, this.requestTimeoutMs, (o, done) => s.admin.ListTokens({ principal }, o, done)),
    );
    return res.tokens.map((t) => ({ id: t.tokenId, principal: t.principal, createdAtMs: t.createdAtMs }));
  }

  async whoAmI(): Promise<{ principal: string; superuser: boolean; securityEnabled: boolean }> {
    return this.runner.run(false, (s) => callUnary<WhoAmIResponse__Output>(s.address, this.requestTimeoutMs, (o, done) => s.admin.WhoAmI({}, o, done)));
  }
}
