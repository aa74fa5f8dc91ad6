// A failed forward to the leader: relayed as the leader answered it, or, when the hop itself failed,
// "not written" only if the call never left this node.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { forwardFailure } from "../../src/server/services/rpc";
import { RpcError, boundedText, maxStatusMessageBytes } from "../../src/server/rpc-errors";

function transportError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

test("a hop that never connected is NOT_LEADER (certainly not written), with the leader hint", () => {
  const e = forwardFailure(transportError(grpc.status.UNAVAILABLE, "No connection established. Last error: connect ECONNREFUSED"), "write", 2);
  assert.equal(e.code, grpc.status.UNAVAILABLE);
  assert.equal(e.reason, "ERROR_REASON_NOT_LEADER");
  assert.equal(e.leaderId, 2);
});

test("a write whose hop broke after sending is OUTCOME_UNKNOWN; a query is NOT_LEADER", () => {
  const broken = transportError(grpc.status.UNAVAILABLE, "read ECONNRESET");
  assert.equal(forwardFailure(broken, "write", 2).reason, "ERROR_REASON_OUTCOME_UNKNOWN");
  assert.equal(forwardFailure(broken, "query", 2).reason, "ERROR_REASON_NOT_LEADER");
  const late = forwardFailure(transportError(grpc.status.DEADLINE_EXCEEDED, "Deadline exceeded"), "write", 2);
  assert.equal(late.code, grpc.status.DEADLINE_EXCEEDED);
  assert.equal(late.reason, "ERROR_REASON_OUTCOME_UNKNOWN");
});

test("the leader's own answer is relayed with its reason", () => {
  const md = new grpc.Metadata();
  md.set("raftline-error-reason", "ERROR_REASON_UNKNOWN_TOPIC");
  const e = forwardFailure(Object.assign(new Error("x"), { code: grpc.status.NOT_FOUND, details: "unknown topic", metadata: md }), "write", 2);
  assert.equal(e.code, grpc.status.NOT_FOUND);
  assert.equal(e.reason, "ERROR_REASON_UNKNOWN_TOPIC");
});

test("status messages are cut to 512 bytes on a character boundary", () => {
  const long = "é".repeat(1000);
  const cut = boundedText(long);
  assert.ok(Buffer.byteLength(cut) <= maxStatusMessageBytes);
  assert.ok(cut.endsWith("…"));
  assert.ok(!cut.includes("\uFFFD"), "no character split");
  assert.equal(new RpcError(grpc.status.INTERNAL, "ERROR_REASON_UNSPECIFIED", long).message, cut);
  assert.equal(boundedText("short"), "short");
});
