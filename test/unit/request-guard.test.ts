// The request guard: undecodable bytes and unknown enum values are refused before any handler runs, and
// the enum walk skips the parts of a request that cannot hold an enum.
import { test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { MessageDescriptor, ProtoTypes } from "../../src/server/proto-descriptors";
import { publicPackageDefinition } from "../../src/server/public-proto";
import { MalformedRequest, requestError } from "../../src/server/request-guard";

const types = new ProtoTypes(publicPackageDefinition());
const produceRequest = types.message("raftline.v1.ProduceRequest");
const subscribeRequest = types.message("raftline.v1.SubscribeRequest");

test("an unknown enum value anywhere in a request is INVALID_FIELD, naming the field", () => {
  const err = requestError({ acks: 7, batches: [] }, produceRequest, types);
  assert.equal(err?.code, status.INVALID_ARGUMENT);
  assert.equal(err?.reason, "ERROR_REASON_INVALID_FIELD");
  assert.match(err?.message ?? "", /^acks: 7 is not a value of Acks/);
  assert.match(requestError({ position: -1 }, subscribeRequest, types)?.message ?? "", /^position: -1 is not a value of StartPosition/);
  assert.equal(requestError({ acks: "ACKS_LEADER", batches: [] }, produceRequest, types), undefined);
});

test("undecodable bytes are MALFORMED_REQUEST", () => {
  const err = requestError(new MalformedRequest("index out of range"), produceRequest, types);
  assert.equal(err?.code, status.INVALID_ARGUMENT);
  assert.equal(err?.reason, "ERROR_REASON_MALFORMED_REQUEST");
});

test("messages without enums at any depth are not walked (records, headers); those with one are", () => {
  assert.equal(types.hasEnums(types.message("raftline.v1.Record")), false);
  assert.equal(types.hasEnums(types.message("raftline.v1.ProduceBatch")), false);
  assert.equal(types.hasEnums(produceRequest), true);
  const nested: MessageDescriptor = {
    name: "Outer",
    field: [{ name: "inner", number: 1, label: "LABEL_REPEATED", type: "TYPE_MESSAGE", typeName: "ProduceRequest", proto3Optional: false }],
  };
  assert.match(requestError({ inner: [{ acks: "ACKS_NONE" }, { acks: 9 }] }, nested, types)?.message ?? "", /^inner\.acks: 9/);
});
