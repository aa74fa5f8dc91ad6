// The replicated ACLs and token hashes: applying their commands, and the questions every node asks on
// every call (whose token is this hash, may this principal do that). Pure and deterministic like the
// rest of the broker; the server decides who is a superuser or a node, this table knows only entries.
import { type Access, type AclEntry, type TokenRecord, grants, maxAcls, maxTokens, sameAcl, validateAcl, validateTokenRecord } from "./acl";
import { BrokerError } from "./errors";
import { type SecurityCommand, SecurityCommandKind } from "./security-commands";

export type SecurityMutation =
  | { kind: "putAcl"; acl: AclEntry }
  | { kind: "removeAcl"; acl: AclEntry }
  | { kind: "putToken"; token: TokenRecord }
  | { kind: "removeToken"; id: string };

export type SecurityResult =
  /** `added` is false when the same entry existed: adding is idempotent, so a retry is safe. */
  | { kind: "aclAdded"; added: boolean }
  | { kind: "aclRemoved" }
  | { kind: "tokenCreated"; token: TokenRecord }
  | { kind: "tokenDeleted"; token: TokenRecord };

export interface LoadedSecurity {
  acls: AclEntry[];
  tokens: TokenRecord[];
}

export class SecurityTable {
  private acls: AclEntry[] = [];
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly tokensByHash = new Map<string, TokenRecord>();
  /** Counts applied changes, so that a node can tell when to re-judge what it admitted earlier. */
  private changes = 0;

  static restore(loaded: LoadedSecurity | undefined): SecurityTable {
    const table = new SecurityTable();
    for (const acl of loaded?.acls ?? []) table.acls.push(acl);
    for (const token of loaded?.tokens ?? []) table.putToken(token);
    return table;
  }

  /** Throws the BrokerError that applying `command` would answer with, if any. */
  check(command: SecurityCommand): void {
    switch (command.kind) {
      case SecurityCommandKind.AddAcl:
        validateAcl(command.acl);
        if (this.acls.length >= maxAcls && !this.acls.some((a) => sameAcl(a, command.acl))) {
          throw new BrokerError("RESOURCE_EXHAUSTED", "ERROR_REASON_TOO_MANY_ACLS", `the cluster holds its maximum of ${maxAcls} ACLs`);
        }
        return;
      case SecurityCommandKind.RemoveAcl:
        validateAcl(command.acl);
        if (!this.acls.some((a) => sameAcl(a, command.acl))) throw new BrokerError("NOT_FOUND", "ERROR_REASON_UNKNOWN_ACL", "no such ACL");
        return;
      case SecurityCommandKind.CreateToken:
        validateTokenRecord({ id: command.id, principal: command.principal, hash: command.hash, createdAtMs: command.nowMs });
        if (this.tokens.has(command.id) || this.tokensByHash.has(command.hash)) {
          throw new BrokerError("ALREADY_EXISTS", "ERROR_REASON_INVALID_FIELD", "a token with this id exists; ask again");
        }
        if (this.tokens.size >= maxTokens) {
          throw new BrokerError("RESOURCE_EXHAUSTED", "ERROR_REASON_TOO_MANY_TOKENS", `the cluster holds its maximum of ${maxTokens} tokens`);
        }
        return;
      case SecurityCommandKind.DeleteToken:
        if (!this.tokens.has(command.id)) throw new BrokerError("NOT_FOUND", "ERROR_REASON_UNKNOWN_TOKEN", `no token with id "${command.id}"`);
        return;
    }
  }

  apply(command: SecurityCommand): { result: SecurityResult; mutations: SecurityMutation[] } {
    const applied = this.applyChecked(command);
    if (applied.mutations.length > 0) this.changes++;
    return applied;
  }

  /** Changes applied to this table so far (not replicated: a restored table starts at 0). */
  get version(): number {
    return this.changes;
  }

  private applyChecked(command: SecurityCommand): { result: SecurityResult; mutations: SecurityMutation[] } {
    this.check(command);
    switch (command.kind) {
      case SecurityCommandKind.AddAcl: {
        if (this.acls.some((a) => sameAcl(a, command.acl))) return { result: { kind: "aclAdded", added: false }, mutations: [] };
        this.acls.push(command.acl);
        return { result: { kind: "aclAdded", added: true }, mutations: [{ kind: "putAcl", acl: command.acl }] };
      }
      case SecurityCommandKind.RemoveAcl:
        this.acls = this.acls.filter((a) => !sameAcl(a, command.acl));
        return { result: { kind: "aclRemoved" }, mutations: [{ kind: "removeAcl", acl: command.acl }] };
      case SecurityCommandKind.CreateToken: {
        const token: TokenRecord = { id: command.id, principal: command.principal, hash: command.hash, createdAtMs: command.nowMs };
        this.putToken(token);
        return { result: { kind: "tokenCreated", token }, mutations: [{ kind: "putToken", token }] };
      }
      case SecurityCommandKind.DeleteToken: {
        const token = this.tokens.get(command.id) as TokenRecord;
        this.tokens.delete(token.id);
        this.tokensByHash.delete(token.hash);
        return { result: { kind: "tokenDeleted", token }, mutations: [{ kind: "removeToken", id: token.id }] };
      }
    }
  }

  /** The principal a token with this hash authenticates, if any. */
  principalOfTokenHash(hash: string): string | undefined {
    return this.tokensByHash.get(hash)?.principal;
  }

  allows(principal: string, access: Access): boolean {
    return this.acls.some((a) => grants(a, principal, access));
  }

  /** ACLs in one order on every node; `principal` narrows to that principal's own entries ("*"'s are not included). */
  listAcls(principal?: string): AclEntry[] {
    const key = (a: AclEntry): string => [a.principal, a.resourceType, a.patternType, a.name, a.operation].join("\u0000");
    const all = [...this.acls].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    return principal ? all.filter((a) => a.principal === principal) : all;
  }

  listTokens(principal?: string): TokenRecord[] {
    const all = [...this.tokens.values()].sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id));
    return principal ? all.filter((t) => t.principal === principal) : all;
  }

  private putToken(token: TokenRecord): void {
    this.tokens.set(token.id, token);
    this.tokensByHash.set(token.hash, token);
  }
}
