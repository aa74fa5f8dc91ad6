// The ConfChange entry format.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfChangeType, decodeConfChange, encodeConfChange } from "../../src/raft";

test("conf changes round-trip, including large node ids", () => {
  for (const type of [ConfChangeType.AddVoter, ConfChangeType.RemoveVoter, ConfChangeType.AddLearner]) {
    for (const nodeId of [1, 3, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) {
      assert.deepEqual(decodeConfChange(encodeConfChange({ type, nodeId })), { type, nodeId });
    }
  }
});

test("malformed conf change bytes are refused", () => {
  const good = encodeConfChange({ type: ConfChangeType.AddVoter, nodeId: 4 });
  assert.throws(() => decodeConfChange(good.subarray(1)), /10 bytes/);
  const badVersion = good.slice();
  badVersion[0] = 9;
  assert.throws(() => decodeConfChange(badVersion), /version/);
  const badType = good.slice();
  badType[1] = 7;
  assert.throws(() => decodeConfChange(badType), /type/);
  assert.throws(() => encodeConfChange({ type: ConfChangeType.AddVoter, nodeId: 0 }), /positive/);
});
