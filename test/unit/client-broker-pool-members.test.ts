// The client follows membership: once DescribeCluster has listed the members, the pool rotates through
// them (nodes added after the client started included) before its bootstrap list.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { BrokerPool } from "../../src/client/broker-pool";
import { RaftlineError } from "../../src/client/errors";
import { status } from "@grpc/grpc-js";

describe("broker pool membership", () => {
  it("starts from the bootstrap list, then rotates through the described members", () => {
    const pool = new BrokerPool(["a:1"], "t");
    assert.deepEqual(pool.brokers, ["a:1"]);
    pool.noteMembers(["b:1", "c:1", "", "a:1"]);
    assert.deepEqual(pool.brokers, ["b:1", "c:1", "a:1"]);
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const target = pool.target(false);
      seen.add(target);
      pool.noteError(new RaftlineError({ code: status.UNAVAILABLE, message: "down", address: target }));
    }
    assert.deepEqual([...seen].sort(), ["a:1", "b:1", "c:1"], "a failing broker passes the turn to the next member");
    pool.noteMembers([]);
    assert.deepEqual(pool.brokers, ["b:1", "c:1", "a:1"], "an empty description changes nothing");
    pool.close();
  });
});
