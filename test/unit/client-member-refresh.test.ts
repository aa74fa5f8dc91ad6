// The client refreshes its broker list by itself: soon after it starts, when a broker cannot be reached
// (at most once a second), and on a timer; a broker that does not answer is passed over for the next.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { BrokerPool } from "../../src/client/broker-pool";
import { RaftlineError } from "../../src/client/errors";
import { MemberRefresh, MemberView } from "../../src/client/member-refresh";
import { waitFor } from "../support/wait";

function fakeCluster(views: Record<string, MemberView | "down">) {
  const asked: string[] = [];
  const describe = (address: string): Promise<MemberView> => {
    asked.push(address);
    const v = views[address];
    return v === undefined || v === "down" ? Promise.reject(new Error(`${address} is down`)) : Promise.resolve(v);
  };
  return { asked, describe };
}

describe("member refresh", () => {
  it("learns the members soon after starting, and again when a broker is unreachable", async () => {
    const pool = new BrokerPool(["a:1"], "t");
    const cluster = fakeCluster({ "a:1": { members: ["a:1", "b:1"], leader: "b:1" }, "b:1": { members: ["b:1", "c:1"], leader: "c:1" } });
    const refresh = new MemberRefresh(pool, cluster.describe, 60000);
    refresh.start();
    await waitFor(() => pool.brokers.includes("b:1"), 5000, "the first refresh");
    assert.equal(pool.leader, "b:1");
    // a:1 goes away; the failure makes the client ask again (another broker), past the one-second floor.
    cluster.asked.length = 0;
    pool.noteError(new RaftlineError({ code: status.UNAVAILABLE, message: "down", address: "a:1" }));
    await waitFor(
      () => {
        pool.noteError(new RaftlineError({ code: status.UNAVAILABLE, message: "down", address: "a:1" }));
        return pool.brokers.includes("c:1");
      },
      5000,
      "a refresh after the failure",
    );
    assert.equal(pool.leader, "c:1");
    refresh.stop();
    pool.close();
  });

  it("passes over brokers that do not answer, and gives up a round once every broker was tried", async () => {
    const pool = new BrokerPool(["a:1", "b:1", "c:1"], "t");
    const cluster = fakeCluster({ "a:1": "down", "b:1": "down", "c:1": { members: ["c:1", "d:1"], leader: undefined } });
    const refresh = new MemberRefresh(pool, cluster.describe, 60000);
    refresh.start();
    await waitFor(() => pool.brokers.includes("d:1"), 5000, "a refresh through the one live broker");
    assert.deepEqual(cluster.asked, ["a:1", "b:1", "c:1"]);
    refresh.stop();

    const dead = new BrokerPool(["x:1"], "t");
    const none = fakeCluster({});
    const idle = new MemberRefresh(dead, none.describe, 60000);
    idle.start();
    await waitFor(() => none.asked.length === 1, 5000, "one attempt");
    assert.deepEqual(dead.brokers, ["x:1"], "nothing learned, nothing lost");
    idle.stop();
    pool.close();
    dead.close();
  });

  it("0 turns the refresh off", () => {
    const pool = new BrokerPool(["a:1"], "t");
    const cluster = fakeCluster({ "a:1": { members: ["a:1", "b:1"], leader: undefined } });
    new MemberRefresh(pool, cluster.describe, 0).start();
    assert.deepEqual(cluster.asked, []);
    pool.close();
  });
});
