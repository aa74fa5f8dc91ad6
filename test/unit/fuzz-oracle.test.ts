// The contract fuzzer's oracle, with each defect it must catch planted in a fabricated answer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { Answer, certainlyRefused, decidedAtApply, violation } from "../support/fuzz/oracle";

const answer = (a: Partial<Answer>): Answer => ({ code: status.OK, reason: "", message: "", deadlinePassed: false, cancelledByClient: false, ...a });
const refusal = (a: Partial<Answer>): Answer => answer({ code: status.INVALID_ARGUMENT, reason: "ERROR_REASON_INVALID_FIELD", message: "acks: 7 is not a value of Acks", ...a });

test("documented answers pass", () => {
  assert.equal(violation(answer({}), undefined), undefined);
  assert.equal(violation(refusal({}), "acks = 7"), undefined);
  assert.equal(violation(answer({ code: status.DEADLINE_EXCEEDED, deadlinePassed: true }), undefined), undefined, "the client's own deadline needs no reason");
  assert.equal(violation(answer({ code: status.UNAVAILABLE, reason: "ERROR_REASON_OUTCOME_UNKNOWN", message: "x" }), undefined), undefined);
});

test("each defect is caught", () => {
  assert.match(violation(answer({}), "acks = 7") ?? "", /accepted an invalid request/);
  assert.match(violation(refusal({ code: status.INTERNAL, reason: "" }), undefined) ?? "", /undocumented status INTERNAL/);
  assert.match(violation(refusal({ code: status.UNKNOWN }), undefined) ?? "", /undocumented status UNKNOWN/);
  assert.match(violation(refusal({ reason: "" }), undefined) ?? "", /without a Raftline reason/);
  assert.match(violation(refusal({ reason: "ERROR_REASON_UNSPECIFIED" }), undefined) ?? "", /without a Raftline reason/);
  assert.match(violation(refusal({ message: "n".repeat(1024) }), undefined) ?? "", /message of 1024 bytes/);
  assert.match(violation(answer({ code: status.DEADLINE_EXCEEDED, deadlinePassed: false }), undefined) ?? "", /without a Raftline reason/);
});

test("only certain refusals promise an unchanged state", () => {
  assert.equal(certainlyRefused(refusal({})), true);
  assert.equal(certainlyRefused(answer({ code: status.UNAVAILABLE, reason: "ERROR_REASON_NOT_LEADER" })), true);
  assert.equal(certainlyRefused(answer({ code: status.UNAVAILABLE, reason: "ERROR_REASON_OUTCOME_UNKNOWN" })), false);
  assert.equal(certainlyRefused(answer({ code: status.DEADLINE_EXCEEDED, deadlinePassed: true })), false);
  assert.equal(certainlyRefused(answer({})), false);
});

test("refusals decided at apply are told apart from those decided before proposing", () => {
  assert.equal(decidedAtApply(answer({ code: status.FAILED_PRECONDITION, reason: "ERROR_REASON_OUT_OF_ORDER_SEQUENCE" })), true);
  assert.equal(decidedAtApply(refusal({ message: "producer_epoch 1 was never issued for producer 1 (current 0)" })), true);
  assert.equal(decidedAtApply(refusal({})), false, "an INVALID_FIELD decided before proposing took no entry");
  assert.equal(decidedAtApply(answer({ code: status.NOT_FOUND, reason: "ERROR_REASON_UNKNOWN_TOPIC" })), false);
});
