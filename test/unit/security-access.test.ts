// The access rules of the client port: every rpc of the compiled contract has an entry in the table (a
// service added without one fails here), authentication by token, superuser token and certificate in
// the same words for every failure, the principal a forwarded call carries trusted only from a node, and
// open streams judged again when the ACLs or tokens change.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import type { PeerCertificate } from "node:tls";
import { BrokerState, SecurityCommandKind, encodeCommand } from "../../src/broker";
import { publicPackageDefinition } from "../../src/server/public-proto";
import { AccessControl, type Principal, principalHeader, tokenHash } from "../../src/server/security/access-control";
import { OpenStream } from "../../src/server/security/open-streams";
import { rpcAccess } from "../../src/server/security/rpc-access";
import { LeaderForwarder } from "../../src/server/leader-forwarder";
import { RpcError } from "../../src/server/rpc-errors";

test("every rpc of every public service has an access rule, and every rule names an rpc", () => {
  const paths: string[] = [];
  for (const def of Object.values(publicPackageDefinition())) {
    if ("format" in def) continue;
    for (const method of Object.values(def)) paths.push(method.path);
  }
  assert.ok(paths.length > 20);
  const missing = paths.filter((p) => rpcAccess[p] === undefined);
  assert.deepEqual(missing, [], `rpcs without an entry in src/server/security/rpc-access.ts: ${missing.join(", ")}`);
  const stale = Object.keys(rpcAccess).filter((p) => !paths.includes(p));
  assert.deepEqual(stale, []);
});

const state = new BrokerState();
state.apply(1, encodeCommand({ kind: SecurityCommandKind.CreateToken, nowMs: 1, id: "00000000000000aa", principal: "alice", hash: tokenHash("alice-token-123456") }));
state.apply(2, encodeCommand({ kind: SecurityCommandKind.AddAcl, nowMs: 1, acl: { principal: "alice", operation: "produce", resourceType: "topic", patternType: "prefix", name: "a-" } }));
const access = new AccessControl({ superuser: "root", nodePrincipal: "raftline-node", superuserToken: "root-token-1234567890", table: () => state.security });

function call(md: Record<string, string | Buffer>, cn?: string) {
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(md)) metadata.set(k, v);
  const cert = cn === undefined ? undefined : ({ subject: { CN: cn } } as unknown as PeerCertificate);
  return { metadata, getAuthContext: () => ({ sslPeerCertificate: cert }) };
}

test("tokens, the superuser token and certificates authenticate; every failure reads the same", () => {
  const alice = access.authenticate(call({ authorization: "Bearer alice-token-123456" }));
  assert.deepEqual(alice, { name: "alice", superuser: false, node: false, tokenHash: tokenHash("alice-token-123456") });
  assert.deepEqual(access.authenticate(call({ authorization: "bearer root-token-1234567890" })), { name: "root", superuser: true, node: false });
  assert.deepEqual(access.authenticate(call({}, "bob")), { name: "bob", superuser: false, node: false });
  const failures = [call({}), call({ authorization: "Bearer wrong" }), call({ authorization: "Basic abc" }), call({ authorization: "Bearer wrong" }, "bob")].map((c) => access.authenticate(c));
  for (const f of failures) {
    assert.ok(f instanceof RpcError);
    assert.equal(f.code, grpc.status.UNAUTHENTICATED);
    assert.equal(f.reason, "ERROR_REASON_UNAUTHENTICATED");
  }
  assert.equal(new Set(failures.map((f) => (f as RpcError).message)).size, 1);
});

test("a forwarded principal is trusted from a node certificate only, and forwarding carries it on", () => {
  const fromNode = call({ [principalHeader]: Buffer.from("alice") }, "raftline-node");
  assert.deepEqual(access.authenticate(fromNode), { name: "alice", superuser: false, node: false });
  assert.deepEqual(access.authenticate(call({}, "raftline-node")), { name: "raftline-node", superuser: false, node: true });
  const forged = call({ [principalHeader]: Buffer.from("root") }, "bob");
  assert.deepEqual(access.authenticate(forged), { name: "bob", superuser: false, node: false });
  assert.equal(forged.metadata.get(principalHeader)[0]?.toString(), "bob", "the stamp is the authenticated principal");
  const follower = new LeaderForwarder([], 2, 1024);
  assert.equal(follower.metadata(forged.metadata).get(principalHeader)[0]?.toString(), "bob");
  follower.close();
});

test("authorization: PERMISSION_DENIED names the operation and resource; superusers and nodes pass", () => {
  const alice = { name: "alice", superuser: false, node: false };
  const produce = rpcAccess["/raftline.v1.Producer/Produce"];
  const request = (topics: string[]) => ({ batches: topics.map((topic) => ({ topic, partition: 0, records: [] })) });
  assert.equal(access.authorize(alice, produce, request(["a-1", "a-2"])), undefined);
  const denied = access.authorize(alice, produce, request(["a-1", "b-1"]));
  assert.equal(denied?.code, grpc.status.PERMISSION_DENIED);
  assert.equal(denied?.reason, "ERROR_REASON_NOT_AUTHORIZED");
  assert.match(denied?.message ?? "", /may not produce on topic "b-1"/);
  assert.equal(access.authorize({ name: "root", superuser: true, node: false }, produce, request(["b-1"])), undefined);
  assert.equal(access.authorize({ name: "raftline-node", superuser: false, node: true }, produce, request(["b-1"])), undefined);
  assert.equal(access.authorize(alice, rpcAccess["/raftline.v1.Admin/WhoAmI"], {}), undefined);
  assert.equal(access.authorize(alice, undefined, {})?.code, grpc.status.PERMISSION_DENIED, "an rpc without a rule is closed");
});

test("open streams are judged again when the ACLs or tokens change: a lost token or permission ends them, nothing else does", () => {
  const s = new BrokerState();
  let index = 0;
  const apply = (command: Parameters<typeof encodeCommand>[0]) => s.apply(++index, encodeCommand(command));
  const acl = { principal: "carol", operation: "consume", resourceType: "topic", patternType: "literal", name: "t" } as const;
  apply({ kind: SecurityCommandKind.CreateToken, nowMs: 1, id: "00000000000000cc", principal: "carol", hash: tokenHash("carol-token-123456") });
  apply({ kind: SecurityCommandKind.AddAcl, nowMs: 1, acl });
  const control = new AccessControl({ superuser: "root", nodePrincipal: "raftline-node", table: () => s.security });
  const byToken = control.authenticate(call({ authorization: "Bearer carol-token-123456" }));
  assert.ok(!(byToken instanceof RpcError));
  const ended: string[] = [];
  const open = (label: string, principal: Principal): void => {
    const stream = new OpenStream(principal, (err) => ended.push(`${label}: ${err.reason}`));
    stream.admitted([{ operation: "consume", resourceType: "topic", name: "t" }]);
    control.streams.open(stream);
  };
  open("by token", byToken);
  open("by certificate", { name: "carol", superuser: false, node: false });
  open("node", { name: "raftline-node", superuser: false, node: true });
  assert.equal(control.securityApplied(), 0, "the first look only notes the table");
  assert.equal(control.securityApplied(), 0, "nothing changed");

  apply({ kind: SecurityCommandKind.AddAcl, nowMs: 2, acl: { ...acl, principal: "dave" } });
  apply({ kind: SecurityCommandKind.CreateToken, nowMs: 2, id: "00000000000000dd", principal: "carol", hash: tokenHash("carol-other-123456") });
  assert.equal(control.securityApplied(), 0, "changes that take nothing from these streams end none");

  apply({ kind: SecurityCommandKind.DeleteToken, nowMs: 3, id: "00000000000000cc" });
  assert.equal(control.securityApplied(), 1);
  assert.deepEqual(ended, ["by token: ERROR_REASON_UNAUTHENTICATED"]);

  apply({ kind: SecurityCommandKind.RemoveAcl, nowMs: 4, acl });
  assert.equal(control.securityApplied(), 1);
  assert.deepEqual(ended, ["by token: ERROR_REASON_UNAUTHENTICATED", "by certificate: ERROR_REASON_NOT_AUTHORIZED"]);
  assert.equal(control.streams.size, 1, "ended streams are no longer followed; the node's stays");
});
