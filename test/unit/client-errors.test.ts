import { test } from "node:test";
import assert from "node:assert/strict";
import { Metadata, status } from "@grpc/grpc-js";
import { RaftlineError, fromErrorStatus, toRaftlineError } from "../../src/client/errors";

function serviceError(code: status, details: string, entries: Record<string, string>): Error {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(entries)) metadata.set(k, v);
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata });
}

test("a NOT_LEADER status carries its reason and leader hint from the trailing metadata", () => {
  const err = toRaftlineError(
    serviceError(status.UNAVAILABLE, "not the leader", {
      "raftline-error-reason": "ERROR_REASON_NOT_LEADER",
      "raftline-leader-id": "3",
      "raftline-leader-address": "127.0.0.1:7003",
    }),
    "127.0.0.1:7001",
  );
  assert.ok(err instanceof RaftlineError);
  assert.equal(err.code, status.UNAVAILABLE);
  assert.equal(err.codeName, "UNAVAILABLE");
  assert.equal(err.reason, "ERROR_REASON_NOT_LEADER");
  assert.equal(err.leaderId, 3);
  assert.equal(err.leaderAddress, "127.0.0.1:7003");
  assert.equal(err.address, "127.0.0.1:7001");
  assert.equal(err.message, "not the leader");
  assert.equal(err.retriable, true);
  assert.equal(err.redirectsElsewhere, true);
});

test("a hint naming the node that answered is no redirect", () => {
  const err = toRaftlineError(
    serviceError(status.UNAVAILABLE, "no quorum", {
      "raftline-error-reason": "ERROR_REASON_NO_QUORUM",
      "raftline-leader-id": "1",
      "raftline-leader-address": "127.0.0.1:7001",
    }),
    "127.0.0.1:7001",
  );
  assert.equal(err.redirectsElsewhere, false);
});

test("a NOT_FOUND is final and has no hint", () => {
  const err = toRaftlineError(serviceError(status.NOT_FOUND, 'unknown topic "t"', { "raftline-error-reason": "ERROR_REASON_UNKNOWN_TOPIC" }));
  assert.equal(err.codeName, "NOT_FOUND");
  assert.equal(err.reason, "ERROR_REASON_UNKNOWN_TOPIC");
  assert.equal(err.retriable, false);
  assert.equal(err.leaderId, undefined);
  assert.equal(err.leaderAddress, undefined);
});

test("transport errors without metadata reasons are UNSPECIFIED; DEADLINE_EXCEEDED is retriable", () => {
  const unreachable = toRaftlineError(serviceError(status.UNAVAILABLE, "connect ECONNREFUSED", {}));
  assert.equal(unreachable.reason, "ERROR_REASON_UNSPECIFIED");
  assert.equal(unreachable.retriable, true);
  assert.equal(toRaftlineError(serviceError(status.DEADLINE_EXCEEDED, "deadline", {})).retriable, true);
  assert.equal(toRaftlineError(serviceError(status.INTERNAL, "bug", {})).retriable, false);
  assert.equal(toRaftlineError(serviceError(status.DATA_LOSS, "checksum", {})).retriable, false);
});

test("malformed metadata is ignored rather than trusted", () => {
  const err = toRaftlineError(
    serviceError(status.UNAVAILABLE, "x", { "raftline-error-reason": "SOMETHING_ELSE", "raftline-leader-id": "two" }),
  );
  assert.equal(err.reason, "ERROR_REASON_UNSPECIFIED");
  assert.equal(err.leaderId, undefined);
});

test("a ProduceStream ErrorStatus maps to the same error shape; leader id 0 means unknown", () => {
  const err = fromErrorStatus(
    { code: 14, reason: "ERROR_REASON_OVERLOADED", message: "too much in flight", leaderId: 0, leaderAddress: "" },
    "127.0.0.1:7002",
  );
  assert.equal(err.codeName, "UNAVAILABLE");
  assert.equal(err.reason, "ERROR_REASON_OVERLOADED");
  assert.equal(err.retriable, true);
  assert.equal(err.leaderId, undefined);
  assert.equal(err.leaderAddress, undefined);
  assert.equal(err.address, "127.0.0.1:7002");
});

test("anything else thrown becomes UNKNOWN and final", () => {
  const err = toRaftlineError(new TypeError("boom"));
  assert.equal(err.codeName, "UNKNOWN");
  assert.equal(err.message, "boom");
  assert.equal(err.retriable, false);
});

test("outcomeUnknown follows errors.proto's table: deadline, OUTCOME_UNKNOWN and a broken transport are unknown", () => {
  const unknown = (code: status, reason: string, details = "x"): boolean =>
    toRaftlineError(serviceError(code, details, reason ? { "raftline-error-reason": reason } : {})).outcomeUnknown;
  assert.equal(unknown(status.DEADLINE_EXCEEDED, ""), true);
  assert.equal(unknown(status.UNAVAILABLE, "ERROR_REASON_OUTCOME_UNKNOWN"), true);
  assert.equal(unknown(status.UNAVAILABLE, "", "Connection dropped"), true);
  assert.equal(unknown(status.UNAVAILABLE, "", "No connection established. Last error: ECONNREFUSED"), false);
  assert.equal(unknown(status.UNAVAILABLE, "ERROR_REASON_NOT_LEADER"), false);
  assert.equal(unknown(status.UNAVAILABLE, "ERROR_REASON_NO_QUORUM"), false);
  assert.equal(unknown(status.INVALID_ARGUMENT, "ERROR_REASON_INVALID_FIELD"), false);
  const certain = toRaftlineError(serviceError(status.UNAVAILABLE, "x", { "raftline-error-reason": "ERROR_REASON_NOT_LEADER" }));
  const marked = certain.withOutcomeUnknown();
  assert.equal(marked.outcomeUnknown, true, "an earlier unknown attempt makes the whole send unknown");
  assert.equal(marked.reason, "ERROR_REASON_NOT_LEADER");
  assert.equal(fromErrorStatus({ code: status.UNAVAILABLE, reason: "ERROR_REASON_OUTCOME_UNKNOWN", message: "m", leaderId: 0, leaderAddress: "" }).outcomeUnknown, true);
});
