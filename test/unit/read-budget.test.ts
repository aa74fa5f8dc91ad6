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

function settled(p: Promise<void>): Promise<boolean> {
  return Promise.race([p.then(() => true), new Promise<boolean>((r) => setImmediate(() => r(false)))]);
}

function isOverloaded(err: unknown): boolean {
  return err instanceof RpcError && err.reason === "ERROR_REASON_OVERLOADED" && err.code === 8;
}

describe("read budget", () => {
  test("streams past the cap are refused, and a closed stream frees its slot", () => {
    const budget = new ReadBudget(limits);
    const streams = [budget.openStream(), budget.openStream(), budget.openStream()];
    assert.throws(() => budget.openStream(), isOverloaded);
    streams[0].close();
    streams[0].close();
    assert.equal(budget.openStreams, 2);
    budget.openStream();
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
    const stream = budget.openStream();
    const call = new FakeCall();
    await stream.room(call);
    const taken = stream.track(120);
    const waiting = stream.room(call);
    assert.equal(await settled(waiting), false);
    taken();
    taken();
    assert.equal(await settled(waiting), true);
    assert.equal(budget.bytesPending, 0);
  });

  test("at the node's budget every stream waits and new streams are refused; closing a stream frees what it held", async () => {
    const budget = new ReadBudget(limits);
    const a = budget.openStream();
    const b = budget.openStream();
    a.track(150);
    b.track(110);
    assert.throws(() => budget.openStream(), isOverloaded);
    const call = new FakeCall();
    const bWaits = b.room(call);
    assert.equal(await settled(bWaits), false);
    a.close();
    assert.equal(budget.bytesPending, 110);
    // b is still over its own budget: it keeps waiting until its own bytes drain.
    assert.equal(await settled(bWaits), false);
    call.cancel();
    assert.equal(await settled(bWaits), true);
    b.close();
    assert.equal(budget.bytesPending, 0);
    assert.equal(budget.openStreams, 0);
  });

  test("a cancelled call never waits for room", async () => {
    const budget = new ReadBudget(limits);
    const stream = budget.openStream();
    stream.track(500);
    const call = new FakeCall();
    call.cancel();
    assert.equal(await settled(stream.room(call)), true);
  });
});
