// Shared by the multi-process membership tests: reading a node's own copy of a partition, waiting for a
// membership, retrying a change while another is applied, and reading a node's log.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { RaftlineClient, RaftlineError } from "../../src/client";
import type { ConsumedRecord__Output } from "../../src/generated/raftline/v1/ConsumedRecord";
import type { FetchResponse__Output } from "../../src/generated/raftline/v1/FetchResponse";
import type { Cluster } from "./cluster";
import { rawStubs, unaryCall } from "./raw-stubs";
import { waitFor } from "./wait";

export const electionDeadlineMs = 15000;
export const changeDeadlineMs = 30000;

/** The whole partition 0 of `topic` as node `address` has applied it. */
export async function readAll(address: string, topic: string): Promise<string[]> {
  const stubs = rawStubs(address);
  try {
    const out: ConsumedRecord__Output[] = [];
    for (;;) {
      const res = await unaryCall<FetchResponse__Output>((opts, cb) =>
        stubs.consumer.Fetch({ topic, partition: 0, offset: out.length }, new grpc.Metadata(), opts, cb),
      );
      out.push(...res.records);
      if (res.records.length === 0 || out.length >= Number(res.highWatermark)) return out.map((r) => r.value.toString());
    }
  } finally {
    stubs.close();
  }
}

export async function membershipOf(client: RaftlineClient): Promise<{ voters: number[]; learners: number[] }> {
  const c = await client.admin().describeCluster();
  return { voters: c.nodes.filter((n) => n.voter).map((n) => n.id), learners: c.nodes.filter((n) => !n.voter).map((n) => n.id) };
}

export async function waitVoters(client: RaftlineClient, voters: number[]): Promise<void> {
  let last = "";
  await waitFor(
    async () => {
      const m = await membershipOf(client).catch(() => undefined);
      last = JSON.stringify(m);
      return m !== undefined && JSON.stringify(m.voters) === JSON.stringify(voters) && m.learners.length === 0;
    },
    changeDeadlineMs,
    `voters ${voters.join(",")} and no learners (last seen ${last})`,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last seen ${last}`);
  });
}

export async function expectRefusal(call: Promise<unknown>, code: grpc.status, reason: string): Promise<void> {
  await assert.rejects(call, (err: unknown) => {
    assert.ok(err instanceof RaftlineError, String(err));
    assert.equal(err.code, code, err.message);
    assert.equal(err.reason, reason, err.message);
    return true;
  });
}

/** Retries a change refused because another (or the new leader's term start) is still being applied. */
export async function whenIdle<T>(change: () => Promise<T>): Promise<T> {
  return waitFor(
    () =>
      change().catch((err: unknown) => {
        if (err instanceof RaftlineError && err.reason === "ERROR_REASON_MEMBERSHIP_CHANGE_IN_PROGRESS") return undefined;
        throw err;
      }),
    changeDeadlineMs,
    "the membership change to be accepted",
  );
}

export function logOf(cluster: Cluster, id: number): string {
  return readFileSync(cluster.node(id).logPath, "utf8");
}
