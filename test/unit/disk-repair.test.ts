// Opening damaged storage in-process: a node with peers moves the directory aside and comes back on a fresh
// one, under a new incarnation, with a replacement to ask for; a node with no peer refuses to start.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import pino from "pino";
import { ConfigError, resolveConfig } from "../../src/server/config";
import { openNodeStorage } from "../../src/server/disk-repair";
import { saveDamage } from "../../src/storage/repair-state";

const insecure = grpc.credentials.createInsecure();

const roots: string[] = [];
after(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

const quiet = pino({ level: "silent" });

async function damagedNode(members: string): Promise<{ root: string; config: ReturnType<typeof resolveConfig>; incarnation: string }> {
  const root = await mkdtemp(join(tmpdir(), "raftline-repair-"));
  roots.push(root);
  const config = resolveConfig({ id: 1, members, dataDir: join(root, "node-1") });
  const first = await openNodeStorage(config, quiet, insecure);
  assert.equal(first.replacementPending, false);
  await saveDamage(first.db, "record batch: CRC-32C mismatch");
  await first.db.close();
  return { root, config, incarnation: first.identity.incarnation };
}

test("a damaged directory is moved aside; the node restarts empty under a new incarnation, to be replaced", async () => {
  const { root, config, incarnation } = await damagedNode("1=127.0.0.1:7001,127.0.0.1:7101;2=127.0.0.1:7002,127.0.0.1:7102;3=127.0.0.1:7003,127.0.0.1:7103");
  const repaired = await openNodeStorage(config, quiet, insecure);
  try {
    assert.equal(repaired.replacementPending, true);
    assert.equal(repaired.identity.joined, true, "it knows no membership until the leader's snapshot");
    assert.notEqual(repaired.identity.incarnation, incarnation);
    assert.equal(repaired.state.applied, 0);
    assert.deepEqual(repaired.state.conf, { voters: [], learners: [] });
    const names = await readdir(root);
    assert.equal(names.filter((n) => n.startsWith("node-1.damaged-")).length, 1, names.join(", "));
  } finally {
    await repaired.db.close();
  }
  // Until replaced, every start keeps asking.
  const again = await openNodeStorage(config, quiet, insecure);
  assert.equal(again.replacementPending, true);
  await again.db.close();
});

test("a node with no peers refuses to start on damaged storage instead of starting empty", async () => {
  const { root, config } = await damagedNode("1=127.0.0.1:7001,127.0.0.1:7101");
  await assert.rejects(openNodeStorage(config, quiet, insecure), (err: unknown) => err instanceof ConfigError && /no peers to repair it from/.test(err.message));
  assert.deepEqual(await readdir(root), ["node-1"], "the directory stays where it is");
});
