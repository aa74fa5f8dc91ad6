// Admin's ACL and token rpcs. Changes go through the log on the leader (one hop from a follower, under
// the caller's principal); lists answer from this node's applied state after a read barrier. Tokens are
// made here, on the node that answers, and only their hash is proposed: the secret never enters the log.
import { randomBytes } from "node:crypto";
import {
  type AclEntry,
  type AclOperation,
  type PatternType,
  type ResourceType,
  type SecurityCommand,
  SecurityCommandKind,
  aclOperations,
  invalidField,
  patternTypes,
  resourceTypes,
} from "../../broker";
import type { Acl, Acl__Output } from "../../generated/raftline/v1/Acl";
import type { AdminHandlers } from "../../generated/raftline/v1/Admin";
import { principalHeader, tokenHash } from "../security/access-control";
import type { NodeContext } from "../node-context";
import { callUnary, commit, deadlineMsOf, onLeader, unary, unexpected } from "./rpc";

type SecurityHandlers = Pick<AdminHandlers, "AddAcl" | "RemoveAcl" | "ListAcls" | "CreateToken" | "DeleteToken" | "ListTokens" | "WhoAmI">;

/** Proto enum names are the lists of acl.ts in upper case behind a prefix. */
function fromProto<T extends string>(list: readonly T[], prefix: string, value: string | number, field: string): T {
  const name = typeof value === "string" && value.startsWith(prefix) ? value.slice(prefix.length).toLowerCase() : "";
  const found = list.find((v) => v === name);
  if (found === undefined) throw invalidField(`acl.${field} must be one of ${list.map((v) => prefix + v.toUpperCase()).join(", ")}`);
  return found;
}

export function aclFromProto(acl: Acl__Output | null | undefined): AclEntry {
  if (!acl) throw invalidField("acl is required");
  return {
    principal: acl.principal,
    operation: fromProto<AclOperation>(aclOperations, "ACL_OPERATION_", acl.operation, "operation"),
    resourceType: fromProto<ResourceType>(resourceTypes, "RESOURCE_TYPE_", acl.resourceType, "resource_type"),
    patternType: fromProto<PatternType>(patternTypes, "PATTERN_TYPE_", acl.patternType, "pattern_type"),
    name: acl.resourceName,
  };
}

export function aclToProto(acl: AclEntry): Acl {
  return {
    principal: acl.principal,
    operation: `ACL_OPERATION_${acl.operation.toUpperCase()}` as Acl["operation"],
    resourceType: `RESOURCE_TYPE_${acl.resourceType.toUpperCase()}` as Acl["resourceType"],
    patternType: `PATTERN_TYPE_${acl.patternType.toUpperCase()}` as Acl["patternType"],
    resourceName: acl.name,
  };
}

/** 32 random bytes: guessing is hopeless, so one SHA-256 (not a slow hash) protects the stored form. */
function newToken(): string {
  return `rl_${randomBytes(32).toString("base64url")}`;
}

export function securityService(ctx: NodeContext): SecurityHandlers {
  const change = async (command: SecurityCommand, deadlineMs: number) => {
    ctx.machine.state.security.check(command);
    return commit(ctx, command, deadlineMs);
  };
  return {
    AddAcl: unary(ctx, (call) =>
      onLeader(
        ctx,
        call,
        "write",
        async () => {
          const result = await change({ kind: SecurityCommandKind.AddAcl, nowMs: ctx.now(), acl: aclFromProto(call.request.acl) }, deadlineMsOf(call));
          if (result.kind !== "aclAdded") throw unexpected(result);
          return { added: result.added };
        },
        (leader, md, deadline) => callUnary((cb) => ctx.forwarder.admin(leader).AddAcl(call.request, md, { deadline }, cb)),
      ),
    ),
    RemoveAcl: unary(ctx, (call) =>
      onLeader(
        ctx,
        call,
        "write",
        async () => {
          const result = await change({ kind: SecurityCommandKind.RemoveAcl, nowMs: ctx.now(), acl: aclFromProto(call.request.acl) }, deadlineMsOf(call));
          if (result.kind !== "aclRemoved") throw unexpected(result);
          return {};
        },
        (leader, md, deadline) => callUnary((cb) => ctx.forwarder.admin(leader).RemoveAcl(call.request, md, { deadline }, cb)),
      ),
    ),
    ListAcls: unary(ctx, async (call) => {
      await ctx.replica.readBarrier(deadlineMsOf(call));
      return { acls: ctx.machine.state.security.listAcls(call.request.principal || undefined).map(aclToProto) };
    }),
    CreateToken: unary(ctx, (call) =>
      onLeader(
        ctx,
        call,
        "write",
        async () => {
          const token = newToken();
          const id = randomBytes(8).toString("hex");
          const command: SecurityCommand = { kind: SecurityCommandKind.CreateToken, nowMs: ctx.now(), id, principal: call.request.principal, hash: tokenHash(token) };
          const result = await change(command, deadlineMsOf(call));
          if (result.kind !== "tokenCreated") throw unexpected(result);
          return { tokenId: id, token };
        },
        (leader, md, deadline) => callUnary((cb) => ctx.forwarder.admin(leader).CreateToken(call.request, md, { deadline }, cb)),
      ),
    ),
    DeleteToken: unary(ctx, (call) =>
      onLeader(
        ctx,
        call,
        "write",
        async () => {
          const result = await change({ kind: SecurityCommandKind.DeleteToken, nowMs: ctx.now(), id: call.request.tokenId }, deadlineMsOf(call));
          if (result.kind !== "tokenDeleted") throw unexpected(result);
          return {};
        },
        (leader, md, deadline) => callUnary((cb) => ctx.forwarder.admin(leader).DeleteToken(call.request, md, { deadline }, cb)),
      ),
    ),
    ListTokens: unary(ctx, async (call) => {
      await ctx.replica.readBarrier(deadlineMsOf(call));
      const tokens = ctx.machine.state.security.listTokens(call.request.principal || undefined);
      return { tokens: tokens.map((t) => ({ tokenId: t.id, principal: t.principal, createdAtMs: t.createdAtMs })) };
    }),
    WhoAmI: unary(ctx, (call) => {
      const access = ctx.access;
      if (!access) return Promise.resolve({ principal: "", superuser: false, securityEnabled: false });
      const stamped = call.metadata.get(principalHeader)[0];
      const principal = stamped === undefined ? (ctx.config.security?.nodePrincipal ?? "") : stamped.toString();
      return Promise.resolve({ principal, superuser: stamped === undefined || access.isSuperuser(principal), securityEnabled: true });
    }),
  };
}
