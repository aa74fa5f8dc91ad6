// The read budget: caps on streams and long polls, and byte accounting that holds a stream (or every
// stream, at the node's budget) until the transport takes what it already wrote.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { ReadBudget } from "../../src/server/read-budget";
import { RpcError } from "../../src/server/rpc-errors";

class FakeCall extends EventEmitter {
  cancelled = false;
  cancel(): void {
    this.cancelled = true;
    this.emit("cancelled");
  }
}

const limits = { streamBytes: 100, nodeBytes: 250, maxStreams: 3, maxLongPolls: 2 };

function settled(p: Promise<unknown>): Promise<boolean> {
  return Promise.race([p.then(() => true), new Promise<boolean>((r) => setImmediate(() => r(false)))]);
}

function isOverloaded(err: unknown): boolean {
  return err instanceof RpcError && err.reason === "ERROR_REASON_OVERLOADED" && err.code === 8;
}

describe("read budget", () => {
  test("streams past the cap are refused, and a closed stream frees its slot", () => {
    const budget = new ReadBudget(limits);
    const streams = [budget.openStream(10), budget.openStream(10), budget.openStream(10)];
    assert.throws(() => budget.openStream(10), isOverloaded);
    streams[0].close();
    streams[0].close();
    assert.equal(budget.openStreams, 2);
    budget.openStream(10);
  });

  test("long polls past the cap are refused; ending one twice frees one slot", () => {
    const budget = new ReadBudget(limits);
    const end = budget.beginLongPoll();
    budget.beginLongPoll();
    assert.throws(() => budget.beginLongPoll(), isOverloaded);
    end();
    end();
    budget.beginLongPoll();
    assert.throws(() => budget.beginLongPoll(), isOverloaded);
  });

  test("a stream at its byte budget waits until the transport takes a response", async () => {
    const budget = new ReadBudget(limits);
    const stream = budget.openStream(10);
    const call = new FakeCall();
    const first = await stream.reserve(call, 60);
    assert.ok(first);
    first.resize(120);
    assert.equal(budget.bytesPending, 120);
    const waiting = stream.reserve(call, 60);
    assert.equal(await settled(waiting), false);
    first.release();
    first.release();
    assert.ok(await waiting);
    assert.equal(budget.bytesPending, 60);
  });

  test("reservations count before the response exists: streams waking together cannot overshoot the node's budget", async () => {
    const budget = new ReadBudget(limits);
    const call = new FakeCall();
    const streams = [budget.openStream(10), budget.openStream(10), budget.openStream(10)];
    const tries = streams.map((s) => s.reserve(call, 100));
    const admitted = await Promise.all(tries.map(settled));
    assert.deepEqual(admitted, [true, true, false]);
    assert.equal(budget.bytesPending, 200);
    const [a] = await Promise.all(tries.slice(0, 2));
    a?.release();
    assert.ok(await tries[2]);
    assert.equal(budget.bytesPending, 200);
  });

  test("at the node's budget new streams are refused; closing a stream frees what it held", async () => {
    const budget = new ReadBudget(limits);
    const call = new FakeCall();
    const a = budget.openStream(10);
    const b = budget.openStream(10);
    (await a.reserve(call, 10))?.resize(150);
    (await b.reserve(call, 10))?.resize(110);
    assert.throws(() => budget.openStream(10), isOverloaded);
    const bWaits = b.reserve(call, 10);
    assert.equal(await settled(bWaits), false);
    a.close();
    assert.equal(budget.bytesPending, 110);
    // b is still over its own budget: it keeps waiting until its own bytes drain, or its call ends.
    assert.equal(await settled(bWaits), false);
    call.cancel();
    assert.equal(await bWaits, undefined);
    b.close();
    assert.equal(budget.bytesPending, 0);
    assert.equal(budget.openStreams, 0);
  });

  test("a cancelled call never waits for room", async () => {
    const budget = new ReadBudget(limits);
    const stream = budget.openStream(10);
    (await stream.reserve(new FakeCall(), 10))?.resize(500);
    const call = new FakeCall();
    call.cancel();
    assert.equal(await stream.reserve(call, 10), undefined);
  });
});
