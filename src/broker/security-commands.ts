// The ACL and token commands and their binary codec (the header, u8 kind and u64 nowMs, is written by
// commands.ts). Strings are u16 length + UTF-8; the ACL's operation, resource type and pattern type are
// u8 indexes into the lists of acl.ts. A token command carries the token's hash, never the token: the
// leader hashes it before proposing, so the log and snapshots hold nothing that authenticates.
import { type AclEntry, aclOperations, patternTypes, resourceTypes } from "./acl";
import { ByteReader, ByteWriter, utf8 } from "./binary";

export enum SecurityCommandKind {
  AddAcl = 30,
  RemoveAcl = 31,
  CreateToken = 32,
  DeleteToken = 33,
}

export interface AddAclCommand {
  kind: SecurityCommandKind.AddAcl;
  nowMs: number;
  acl: AclEntry;
}

export interface RemoveAclCommand {
  kind: SecurityCommandKind.RemoveAcl;
  nowMs: number;
  acl: AclEntry;
}

export interface CreateTokenCommand {
  kind: SecurityCommandKind.CreateToken;
  nowMs: number;
  /** Chosen by the leader. */
  id: string;
  principal: string;
  hash: string;
}

export interface DeleteTokenCommand {
  kind: SecurityCommandKind.DeleteToken;
  nowMs: number;
  id: string;
}

export type SecurityCommand = AddAclCommand | RemoveAclCommand | CreateTokenCommand | DeleteTokenCommand;

export function isSecurityCommandKind(kind: number): kind is SecurityCommandKind {
  return kind >= SecurityCommandKind.AddAcl && kind <= SecurityCommandKind.DeleteToken;
}

function strings(command: SecurityCommand): Uint8Array[] {
  switch (command.kind) {
    case SecurityCommandKind.AddAcl:
    case SecurityCommandKind.RemoveAcl:
      return [utf8(command.acl.principal), utf8(command.acl.name)];
    case SecurityCommandKind.CreateToken:
      return [utf8(command.id), utf8(command.principal), utf8(command.hash)];
    case SecurityCommandKind.DeleteToken:
      return [utf8(command.id)];
  }
}

export function encodeSecurityCommand(command: SecurityCommand): Uint8Array {
  const parts = strings(command);
  for (const p of parts) if (p.length > 0xffff) throw new RangeError(`string of ${p.length} bytes is too long to encode`);
  const isAcl = command.kind === SecurityCommandKind.AddAcl || command.kind === SecurityCommandKind.RemoveAcl;
  const w = new ByteWriter(1 + 8 + parts.reduce((n, p) => n + 2 + p.length, 0) + (isAcl ? 3 : 0));
  w.u8(command.kind);
  w.u64(command.nowMs);
  if (isAcl) {
    w.u8(aclOperations.indexOf(command.acl.operation));
    w.u8(resourceTypes.indexOf(command.acl.resourceType));
    w.u8(patternTypes.indexOf(command.acl.patternType));
  }
  for (const p of parts) {
    w.u16(p.length);
    w.raw(p);
  }
  return w.finish();
}

function pick<T>(list: readonly T[], index: number, what: string, malformed: (what: string) => Error): T {
  const value = list[index];
  if (value === undefined) throw malformed(`${what} ${index} is not known`);
  return value;
}

export function decodeSecurityBody(r: ByteReader, kind: SecurityCommandKind, nowMs: number, malformed: (what: string) => Error): SecurityCommand {
  const str = (what: string): string => r.utf8(r.u16(what), what);
  switch (kind) {
    case SecurityCommandKind.AddAcl:
    case SecurityCommandKind.RemoveAcl: {
      const operation = pick(aclOperations, r.u8("operation"), "operation", malformed);
      const resourceType = pick(resourceTypes, r.u8("resource type"), "resource type", malformed);
      const patternType = pick(patternTypes, r.u8("pattern type"), "pattern type", malformed);
      const acl: AclEntry = { principal: str("principal"), operation, resourceType, patternType, name: str("resource name") };
      return { kind, nowMs, acl };
    }
    case SecurityCommandKind.CreateToken:
      return { kind, nowMs, id: str("token id"), principal: str("principal"), hash: str("token hash") };
    case SecurityCommandKind.DeleteToken:
      return { kind, nowMs, id: str("token id") };
  }
}
