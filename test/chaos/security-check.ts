// With security on, the replicated ACLs and token hashes go through the chaos like the logs: set before
// the faults, then every node must list the same entries and still authenticate the token afterwards
// (leader changes, snapshots, a wiped follower and restarts carried them).
import * as grpc from "@grpc/grpc-js";
import type { ListAclsResponse__Output } from "../../src/generated/raftline/v1/ListAclsResponse";
import type { WhoAmIResponse__Output } from "../../src/generated/raftline/v1/WhoAmIResponse";
import { RaftlineClient } from "../../src/client";
import type { Cluster } from "../support/cluster";
import { connectionDefaults } from "../support/connection-defaults";
import { rawStubs, unaryCall } from "../support/raw-stubs";
import type { Violation } from "./model";

const callTimeoutMs = 10000;
const principal = "chaos-reader";

export interface SecuritySetup {
  acls: number;
  token: string;
}

export async function setUpSecurityState(cluster: Cluster): Promise<SecuritySetup> {
  const client = new RaftlineClient({ ...connectionDefaults().client, brokers: cluster.brokers, clientId: "chaos-security", requestTimeoutMs: callTimeoutMs });
  try {
    const s = client.security();
    await s.addAcl({ principal, operation: "consume", resourceType: "topic", patternType: "prefix", name: "" });
    await s.addAcl({ principal, operation: "describe", resourceType: "cluster" });
    const { token } = await s.createToken(principal);
    return { acls: 2, token };
  } finally {
    await client.close({ flush: false });
  }
}

/** What one node answered for the token after the chaos: its principal and ACL count, or the failure. */
export interface SecurityObservation {
  node: number;
  answer: { principal: string; acls: number } | { error: string };
}

/** The pure half of the check: every node must take the token for its principal and list its entries. */
export function securityViolations(observations: readonly SecurityObservation[], expected: { principal: string; acls: number }): Violation[] {
  return observations.flatMap(({ node, answer }): Violation[] => {
    if ("error" in answer) return [{ check: "security-state", message: `node ${node} did not answer the token's calls: ${answer.error}` }];
    const found: Violation[] = [];
    if (answer.principal !== expected.principal) found.push({ check: "security-state", message: `node ${node} took the token for "${answer.principal}"` });
    if (answer.acls !== expected.acls) found.push({ check: "security-state", message: `node ${node} lists ${answer.acls} ACL entries, not ${expected.acls}` });
    return found;
  });
}

export async function checkSecurityState(cluster: Cluster, setup: SecuritySetup, tls: grpc.ChannelCredentials): Promise<Violation[]> {
  const observations: SecurityObservation[] = [];
  const bearer = grpc.credentials.createFromMetadataGenerator((_p, cb) => {
    const md = new grpc.Metadata();
    md.set("authorization", `Bearer ${setup.token}`);
    cb(null, md);
  });
  for (const node of cluster.nodes) {
    const stubs = rawStubs(node.clientAddress, {}, grpc.credentials.combineChannelCredentials(tls, bearer));
    try {
      const who = await unaryCall<WhoAmIResponse__Output>((o, cb) => stubs.admin.WhoAmI({}, new grpc.Metadata(), o, cb), callTimeoutMs);
      const acls = await unaryCall<ListAclsResponse__Output>((o, cb) => stubs.admin.ListAcls({ principal }, new grpc.Metadata(), o, cb), callTimeoutMs);
      observations.push({ node: node.id, answer: { principal: who.principal, acls: acls.acls.length } });
    } catch (err) {
      observations.push({ node: node.id, answer: { error: (err as Error).message } });
    } finally {
      stubs.close();
    }
  }
  return securityViolations(observations, { principal, acls: setup.acls });
}
