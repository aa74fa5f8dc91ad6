// The ACLs' and tokens' part of the broker range (see broker-store.ts for the rest):
//
//   0x1C | u16 principal length | principal | u8 resource type | u8 pattern type | u16 name length | name | u8 operation
//                                            ACL: the key is the whole entry; value u8 format version
//   0x1D | token id (16 hex digits)          token: u8 format version, then { id, principal, hash,
//                                            createdAtMs } as UTF-8 JSON (the hash, never the token)
//
// Both prefixes lie in the broker range, so snapshots carry them like everything else.
import { type AclEntry, type LoadedSecurity, type SecurityMutation, type TokenRecord, aclOperations, patternTypes, resourceTypes } from "../broker";
import type { Db } from "./db";

export const PREFIX_ACL = 0x1c;
export const PREFIX_TOKEN = 0x1d;

const formatVersion = 1;
const iteratorOptions = { keyEncoding: "buffer", valueEncoding: "buffer" } as const;

export interface SecurityWriteBatch {
  put(key: Buffer, value: Buffer): unknown;
  del(key: Buffer): unknown;
}

function aclKey(acl: AclEntry): Buffer {
  const principal = Buffer.from(acl.principal, "utf8");
  const name = Buffer.from(acl.name, "utf8");
  const key = Buffer.allocUnsafe(1 + 2 + principal.length + 2 + 2 + name.length + 1);
  let at = key.writeUInt8(PREFIX_ACL, 0);
  at = key.writeUInt16BE(principal.length, at);
  at += principal.copy(key, at);
  at = key.writeUInt8(resourceTypes.indexOf(acl.resourceType), at);
  at = key.writeUInt8(patternTypes.indexOf(acl.patternType), at);
  at = key.writeUInt16BE(name.length, at);
  at += name.copy(key, at);
  key.writeUInt8(aclOperations.indexOf(acl.operation), at);
  return key;
}

function decodeAclKey(key: Buffer): AclEntry {
  let at = 1;
  const principalLength = key.readUInt16BE(at);
  const principal = key.toString("utf8", at + 2, at + 2 + principalLength);
  at += 2 + principalLength;
  const resourceType = resourceTypes[key[at]];
  const patternType = patternTypes[key[at + 1]];
  const nameLength = key.readUInt16BE(at + 2);
  const name = key.toString("utf8", at + 4, at + 4 + nameLength);
  const operation = aclOperations[key[at + 4 + nameLength]];
  if (resourceType === undefined || patternType === undefined || operation === undefined || at + 5 + nameLength !== key.length) {
    throw new Error(`malformed ACL key ${key.toString("hex")}`);
  }
  return { principal, operation, resourceType, patternType, name };
}

function tokenKey(id: string): Buffer {
  return Buffer.concat([Buffer.from([PREFIX_TOKEN]), Buffer.from(id, "utf8")]);
}

function checkVersion(value: Buffer, what: string): void {
  if (value.length === 0 || value[0] !== formatVersion) {
    throw new Error(`${what} format ${value[0]} is not supported (this build reads ${formatVersion})`);
  }
}

export function addSecurityMutation(batch: SecurityWriteBatch, m: SecurityMutation): void {
  switch (m.kind) {
    case "putAcl":
      batch.put(aclKey(m.acl), Buffer.from([formatVersion]));
      break;
    case "removeAcl":
      batch.del(aclKey(m.acl));
      break;
    case "putToken":
      batch.put(tokenKey(m.token.id), Buffer.concat([Buffer.from([formatVersion]), Buffer.from(JSON.stringify(m.token), "utf8")]));
      break;
    case "removeToken":
      batch.del(tokenKey(m.id));
      break;
  }
}

/** Undefined when no ACL and no token is stored. */
export async function loadSecurity(db: Db): Promise<LoadedSecurity | undefined> {
  const acls: AclEntry[] = [];
  for await (const [key, value] of db.iterator({ ...iteratorOptions, gte: Buffer.from([PREFIX_ACL]), lt: Buffer.from([PREFIX_ACL + 1]) })) {
    checkVersion(value, "ACL");
    acls.push(decodeAclKey(key));
  }
  const tokens: TokenRecord[] = [];
  for await (const value of db.values({ ...iteratorOptions, gte: Buffer.from([PREFIX_TOKEN]), lt: Buffer.from([PREFIX_TOKEN + 1]) })) {
    checkVersion(value, "token");
    tokens.push(JSON.parse(value.toString("utf8", 1)) as TokenRecord);
  }
  return acls.length + tokens.length > 0 ? { acls, tokens } : undefined;
}
