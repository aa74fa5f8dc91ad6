// The replica loop's write pipeline: one write under way at a time, in order; what is handed over
// meanwhile joins the next write, fsynced if any part asked; landing callbacks run in hand-over order.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { WriteBatch } from "../../src/server/replica-ports";
import { WritePipeline } from "../../src/server/write-pipeline";

/** A batch whose write waits until the test lets it land (or fail). */
class ManualBatch implements WriteBatch {
  readonly keys: string[] = [];
  sync: boolean | undefined;
  private finish: ((err?: Error) => void) | undefined;

  put(key: Buffer): void {
    this.keys.push(key.toString());
  }

  del(key: Buffer): void {
    this.keys.push(`-${key.toString()}`);
  }

  write(options: { sync: boolean }): Promise<void> {
    this.sync = options.sync;
    return new Promise((resolve, reject) => {
      this.finish = (err) => (err ? reject(err) : resolve());
    });
  }

  get started(): boolean {
    return this.sync !== undefined;
  }

  land(err?: Error): void {
    if (!this.finish) throw new Error("this batch's write has not started");
    this.finish(err);
  }
}

function pipeline(written: () => void = () => undefined): { writes: WritePipeline; batches: ManualBatch[]; failures: unknown[] } {
  const batches: ManualBatch[] = [];
  const failures: unknown[] = [];
  const writes = new WritePipeline(
    () => {
      const b = new ManualBatch();
      batches.push(b);
      return b;
    },
    (err) => failures.push(err),
    written,
  );
  return { writes, batches, failures };
}

/** Lets the promise callbacks of a landed write run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

test("hand-overs during a write join the next write, which starts only once the first has landed", async () => {
  const { writes, batches } = pipeline();
  const landed: string[] = [];
  writes.batch().put(Buffer.from("a"), Buffer.alloc(0));
  writes.submit(false, 0, () => landed.push("a"));
  assert.equal(batches.length, 1);
  assert.equal(batches[0].started, true);

  writes.batch().put(Buffer.from("b"), Buffer.alloc(0));
  writes.submit(true, 0, () => landed.push("b"));
  writes.batch().del(Buffer.from("c"));
  writes.submit(false, 0, () => landed.push("c"));
  assert.equal(batches.length, 2, "b and c share one batch");
  assert.equal(batches[1].started, false, "nothing starts while a write is under way");
  assert.deepEqual(batches[1].keys, ["b", "-c"]);

  batches[0].land();
  await settle();
  assert.deepEqual(landed, ["a"]);
  assert.equal(batches[1].started, true);
  assert.equal(batches[1].sync, true, "synced because one of its parts asked");
  assert.equal(batches[0].sync, false);

  batches[1].land();
  await settle();
  assert.deepEqual(landed, ["a", "b", "c"]);
  assert.equal(writes.idle, true);
});

test("drained waits for every write handed over so far", async () => {
  const { writes, batches } = pipeline();
  let drained = false;
  await writes.drained();
  writes.batch();
  writes.submit(false, 0, () => undefined);
  writes.batch();
  writes.submit(false, 0, () => undefined);
  void writes.drained().then(() => (drained = true));
  batches[0].land();
  await settle();
  assert.equal(drained, false, "the second write is still to land");
  batches[1].land();
  await settle();
  assert.equal(drained, true);
});

test("a failed write stops the pipeline: it is reported and nothing after it is written", async () => {
  const { writes, batches, failures } = pipeline();
  const landed: string[] = [];
  writes.batch();
  writes.submit(true, 0, () => landed.push("a"));
  writes.batch();
  writes.submit(true, 0, () => landed.push("b"));
  batches[0].land(new Error("disk full"));
  await settle();
  assert.equal(failures.length, 1);
  assert.deepEqual(landed, []);
  assert.equal(batches[1].started, false);
});

test("a landing callback that throws is reported as a failure", async () => {
  const { writes, batches, failures } = pipeline();
  writes.batch();
  writes.submit(false, 0, () => {
    throw new Error("listener failed");
  });
  batches[0].land();
  await settle();
  assert.equal(failures.length, 1);
});

test("submit without a batch is a bug of the caller", () => {
  const { writes } = pipeline();
  assert.throws(() => writes.submit(false, 0, () => undefined), /submit without a batch/);
});

test("counts the bytes handed over until their write lands, and tells when each write has landed, before the next starts", async () => {
  const seen: string[] = [];
  const { writes, batches } = pipeline(() => seen.push(`written, next started ${batches.length > 1 && batches[1].started}, unwritten ${writes.unwrittenBytes}`));
  writes.batch().put(Buffer.from("a"), Buffer.alloc(0));
  writes.submit(false, 100, () => seen.push("a landed"));
  writes.batch().put(Buffer.from("b"), Buffer.alloc(0));
  writes.submit(false, 30, () => undefined);
  writes.batch().put(Buffer.from("c"), Buffer.alloc(0));
  writes.submit(false, 20, () => undefined);
  assert.equal(writes.unwrittenBytes, 150, "the write under way and the next");
  batches[0].land();
  await settle();
  assert.deepEqual(seen, ["a landed", "written, next started false, unwritten 50"]);
  assert.equal(writes.unwrittenBytes, 50);
  batches[1].land();
  await settle();
  assert.equal(writes.unwrittenBytes, 0);
});
