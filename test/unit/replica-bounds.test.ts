import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultReplicaBounds, resolveReplicaBounds } from "../../src/server/replica-bounds";

test("replica bounds: defaults are valid, overrides are checked", () => {
  assert.deepEqual(resolveReplicaBounds(), defaultReplicaBounds);
  assert.equal(resolveReplicaBounds({ maxInboxMessages: 8 }).maxInboxMessages, 8);
  for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 60]) {
    assert.throws(() => resolveReplicaBounds({ maxPendingReads: bad }), /maxPendingReads must be a positive integer/);
  }
  assert.throws(() => resolveReplicaBounds({ maxPendingProposals: 10, maxProposalBatch: 11 }), /maxProposalBatch exceeds maxPendingProposals/);
});
