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

export async function checkSecurityState(cluster: Cluster, setup: SecuritySetup, tls: grpc.ChannelCredentials): Promise<Violation[]> {
  const violations: Violation[] = [];
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
      if (who.principal !== principal) violations.push({ check: "security-state", message: `node ${node.id} took the token for "${who.principal}"` });
      if (acls.acls.length !== setup.acls) violations.push({ check: "security-state", message: `node ${node.id} lists ${acls.acls.length} ACL entries, not ${setup.acls}` });
    } catch (err) {
      violations.push({ check: "security-state", message: `node ${node.id} did not answer the token's calls: ${(err as Error).message}` });
    } finally {
      stubs.close();
    }
  }
  return violations;
}
