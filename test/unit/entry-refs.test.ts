// Which raft entries hold stored batches: counted while in the log, remembered after compaction only when
// shared, and deleted with the last batch they hold.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EntryRefs } from "../../src/storage/entry-refs";
import { entryIndexOf } from "../../src/storage/keys";

/** Records the deletes a batch would carry. */
class Deletes {
  readonly deleted: number[] = [];
  put(): void {
    throw new Error("EntryRefs never writes a value");
  }
  del(key: Buffer): void {
    this.deleted.push(entryIndexOf(key));
  }
}

test("an entry in the log is kept by compaction while it holds a batch, whatever was released before", () => {
  const refs = new EntryRefs();
  refs.reset([], 0);
  refs.hold(1);
  refs.hold(2);
  refs.hold(2);
  refs.hold(3);
  const batch = new Deletes();
  refs.release(batch, 1);
  refs.release(batch, 2);
  assert.deepEqual(batch.deleted, [], "in the log: compaction deletes it, not the release");
  assert.deepEqual([1, 2, 3, 4].map((i) => refs.compactKeeps(i)), [false, true, true, false]);
  assert.equal(refs.isShared(2), false, "2 holds one batch now");
  refs.release(batch, 2);
  refs.release(batch, 3);
  assert.deepEqual(batch.deleted, [2, 3]);
});

test("a compacted entry holding batches of several partitions goes with the last of them", () => {
  const refs = new EntryRefs();
  refs.reset([7, 9, 3, 7, 7], 8);
  assert.ok(refs.isShared(7));
  assert.equal(refs.isShared(3), false, "alone in its entry: no record");
  const batch = new Deletes();
  refs.release(batch, 7);
  refs.release(batch, 7);
  assert.deepEqual(batch.deleted, []);
  assert.equal(refs.isShared(7), false);
  refs.release(batch, 7);
  assert.deepEqual(batch.deleted, [7]);
  refs.release(batch, 3);
  assert.deepEqual(batch.deleted, [7, 3]);
  assert.equal(refs.compactKeeps(9), true, "9 is past the compaction point: counted in the log");
});

test("holding an entry at or before the compaction point, or releasing one that holds nothing, is a bug", () => {
  const refs = new EntryRefs();
  refs.reset([], 5);
  assert.throws(() => refs.hold(5), /after the compaction point 5/);
  assert.throws(() => refs.release(new Deletes(), 6), /entry 6 holds no stored batch/);
});
