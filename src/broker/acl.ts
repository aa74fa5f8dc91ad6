// Access control lists: who may do what to which resource. Pure data and the one matching rule every
// node uses, so a decision never depends on which node a call reached. Names and limits are validated
// here so a bad entry is refused before it is proposed, and again at apply.
import { BrokerError } from "./errors";

export const aclOperations = ["produce", "consume", "describe", "create", "delete", "alter", "commit", "all"] as const;
export type AclOperation = (typeof aclOperations)[number];
export const resourceTypes = ["topic", "group", "cluster"] as const;
export type ResourceType = (typeof resourceTypes)[number];
export const patternTypes = ["literal", "prefix"] as const;
export type PatternType = (typeof patternTypes)[number];

/** `principal` "*" is every authenticated principal; a cluster resource's name is always "". */
export interface AclEntry {
  principal: string;
  operation: AclOperation;
  resourceType: ResourceType;
  patternType: PatternType;
  name: string;
}

/** What one call needs: an operation on one named resource. */
export interface Access {
  operation: Exclude<AclOperation, "all">;
  resourceType: ResourceType;
  name: string;
}

/** A bearer token as stored: never the token itself, only its SHA-256. */
export interface TokenRecord {
  id: string;
  principal: string;
  /** Hex SHA-256 of the token. */
  hash: string;
  createdAtMs: number;
}

export const anyPrincipal = "*";
export const maxPrincipalBytes = 255;
export const maxResourceNameBytes = 255;
/** Bounds what a cluster's ACL and token tables can hold (and what a List answers). */
export const maxAcls = 10_000;
export const maxTokens = 10_000;
const tokenIdPattern = /^[0-9a-f]{16}$/;
const hashPattern = /^[0-9a-f]{64}$/;

function invalid(message: string): BrokerError {
  return new BrokerError("INVALID_ARGUMENT", "ERROR_REASON_INVALID_FIELD", message);
}

function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

export function validatePrincipal(principal: string): void {
  if (principal.length === 0 || byteLength(principal) > maxPrincipalBytes || /[\u0000-\u001f]/.test(principal)) {
    throw invalid(`principal must be 1..${maxPrincipalBytes} bytes without control characters`);
  }
}

export function validateAcl(entry: AclEntry): void {
  validatePrincipal(entry.principal);
  if (!aclOperations.includes(entry.operation)) throw invalid(`operation must be one of ${aclOperations.join(", ")}`);
  if (!resourceTypes.includes(entry.resourceType)) throw invalid(`resource type must be one of ${resourceTypes.join(", ")}`);
  if (!patternTypes.includes(entry.patternType)) throw invalid(`pattern type must be one of ${patternTypes.join(", ")}`);
  if (entry.resourceType === "cluster") {
    if (entry.name !== "" || entry.patternType !== "literal") throw invalid("a cluster ACL takes no resource name and a literal pattern");
    return;
  }
  const bytes = byteLength(entry.name);
  if (bytes > maxResourceNameBytes || /[\u0000-\u001f]/.test(entry.name)) throw invalid(`resource name must be at most ${maxResourceNameBytes} bytes without control characters`);
  if (bytes === 0 && entry.patternType === "literal") throw invalid("a literal resource name must not be empty (an empty prefix matches every name)");
}

export function validateTokenRecord(token: TokenRecord): void {
  validatePrincipal(token.principal);
  if (!tokenIdPattern.test(token.id)) throw invalid("token id must be 16 lowercase hex digits");
  if (!hashPattern.test(token.hash)) throw invalid("token hash must be 64 lowercase hex digits");
}

export function sameAcl(a: AclEntry, b: AclEntry): boolean {
  return (
    a.principal === b.principal &&
    a.operation === b.operation &&
    a.resourceType === b.resourceType &&
    a.patternType === b.patternType &&
    a.name === b.name
  );
}

/** True when `entry` grants `access` to `principal`. */
export function grants(entry: AclEntry, principal: string, access: Access): boolean {
  if (entry.principal !== anyPrincipal && entry.principal !== principal) return false;
  if (entry.operation !== "all" && entry.operation !== access.operation) return false;
  if (entry.resourceType !== access.resourceType) return false;
  return entry.patternType === "literal" ? entry.name === access.name : access.name.startsWith(entry.name);
}

export function describeAccess(access: Access): string {
  return access.resourceType === "cluster" ? `${access.operation} on the cluster` : `${access.operation} on ${access.resourceType} "${access.name}"`;
}
