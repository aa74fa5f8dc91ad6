// The chaos suite's security-state check catches each way a node can lose the replicated ACLs or tokens.
import { test } from "node:test";
import assert from "node:assert/strict";
import { securityViolations } from "./security-check";

const expected = { principal: "chaos-reader", acls: 2 };

test("every node answering the token with its principal and entries passes", () => {
  const ok = [1, 2, 3].map((node) => ({ node, answer: { principal: "chaos-reader", acls: 2 } }));
  assert.deepEqual(securityViolations(ok, expected), []);
});

test("planted: a node that lost an ACL, one that forgot the token, one that maps it to someone else", () => {
  const found = securityViolations(
    [
      { node: 1, answer: { principal: "chaos-reader", acls: 1 } },
      { node: 2, answer: { error: "UNAUTHENTICATED: authentication failed" } },
      { node: 3, answer: { principal: "admin", acls: 2 } },
    ],
    expected,
  );
  assert.deepEqual(
    found.map((v) => v.message),
    ['node 1 lists 1 ACL entries, not 2', "node 2 did not answer the token's calls: UNAUTHENTICATED: authentication failed", 'node 3 took the token for "admin"'],
  );
  assert.ok(found.every((v) => v.check === "security-state"));
});
