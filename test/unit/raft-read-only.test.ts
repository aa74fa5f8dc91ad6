// The leader's queue of reads waiting for a heartbeat round (ReadIndex, thesis §6.4), on its own: an
// acknowledged round serves its read and every earlier one at once, in arrival order, and nothing else;
// the newest waiting read is what the next heartbeat carries. Written for mutants that survived the run
// of test/sim/MUTATION.md.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ReadOnly } from "../../src/raft/read-only";

test("an acknowledged round serves its read and every earlier one, in order, and nothing else", () => {
  const ro = new ReadOnly();
  ro.add(5, "a", 1);
  ro.add(6, "b", 2);
  ro.add(7, "c", 1);
  assert.equal(ro.size, 3);
  assert.equal(ro.has("b"), true);
  const served = ro.advance("b");
  assert.deepEqual(
    served.map((r) => [r.context, r.index, r.from]),
    [
      ["a", 5, 1],
      ["b", 6, 2],
    ],
  );
  assert.equal(ro.size, 1);
  assert.equal(ro.has("a"), false);
  assert.deepEqual(ro.advance("b"), [], "a round already served serves nothing more");
  assert.deepEqual(ro.advance("c").map((r) => r.context), ["c"]);
  assert.equal(ro.size, 0);
});

test("the newest waiting read is the one the next heartbeat carries, until none waits", () => {
  const ro = new ReadOnly();
  assert.equal(ro.lastPendingContext(), undefined);
  ro.add(1, "a", 1);
  assert.equal(ro.lastPendingContext(), "a");
  ro.add(2, "b", 1);
  assert.equal(ro.lastPendingContext(), "b");
  ro.advance("a");
  assert.equal(ro.lastPendingContext(), "b");
  ro.advance("b");
  assert.equal(ro.lastPendingContext(), undefined);
});

test("a read added twice keeps its first place and index; acks are counted per read", () => {
  const ro = new ReadOnly();
  ro.add(3, "a", 1);
  assert.deepEqual([...(ro.recvAck(2, "a") ?? [])], [2]);
  ro.add(9, "a", 1);
  assert.deepEqual([...(ro.recvAck(3, "a") ?? [])].sort(), [2, 3]);
  assert.equal(ro.recvAck(2, "unknown"), undefined);
  assert.deepEqual(ro.advance("a").map((r) => r.index), [3]);
});
