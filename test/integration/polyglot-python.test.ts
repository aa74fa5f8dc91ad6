// Proof that the public contract is enough for another language: Python stubs generated from proto/ by
// protoc talk to a real three-node cluster (test/python/roundtrip.py and contract.py hold the checks).
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { protoRoot, repoRoot } from "../support/repo-root";
import { startCluster } from "../support/cluster";

const run = promisify(execFile);

// Debian's interpreter and plugin, where python3-grpcio and python3-protobuf are installed (not
// whichever python3 comes first on PATH).
const python = "/usr/bin/python3";
const protoc = "/usr/bin/protoc";
const grpcPythonPlugin = "/usr/bin/grpc_python_plugin";
const scriptDeadlineMs = 90000;

const missing = [python, protoc, grpcPythonPlugin].filter((p) => !existsSync(p));

const skip = missing.length > 0 ? `missing ${missing.join(", ")} (packages protobuf-compiler, protobuf-compiler-grpc, python3-grpcio)` : false;

/** Generates the Python stubs, starts a cluster and runs `script` (in test/python) against its leader and a follower. */
async function runPythonScript(t: TestContext, script: string, withLeaderId: boolean): Promise<void> {
  const stubs = mkdtempSync(join(tmpdir(), "raftline-python-stubs-"));
  t.after(() => rmSync(stubs, { recursive: true, force: true }));
  const protoFiles = ["admin", "consumer", "errors", "producer", "records"].map((f) => join(protoRoot, "raftline", "v1", `${f}.proto`));
  await run(protoc, ["-I", protoRoot, `--python_out=${stubs}`, `--grpc_out=${stubs}`, `--plugin=protoc-gen-grpc=${grpcPythonPlugin}`, ...protoFiles]);

  const cluster = await startCluster();
  const leaderId = await cluster.waitForLeader(20000);
  const leader = cluster.node(leaderId);
  const follower = cluster.nodes.find((n) => n.id !== leaderId);
  assert.ok(follower);

  const args = [join(repoRoot, "test", "python", script), "--leader", leader.clientAddress, "--follower", follower.clientAddress];
  if (withLeaderId) args.push("--leader-id", String(leaderId));
  try {
    const { stdout } = await run(python, args, {
      env: { ...process.env, PYTHONPATH: stubs, PYTHONDONTWRITEBYTECODE: "1" },
      timeout: scriptDeadlineMs,
    });
    t.diagnostic(stdout.trim());
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string; message: string };
    assert.fail(`${script} failed (exit ${e.code}):\n${e.stderr || e.message}\n${e.stdout ?? ""}\n${cluster.logTails()}`);
  }
}

test("a Python client generated from proto/ produces and fetches through the leader and a follower", { skip }, (t) =>
  runPythonScript(t, "roundtrip.py", true),
);

test("a Python client sees the contract kept through the leader and a follower: stream order, short errors, enum and malformed refusals", { skip }, (t) =>
  runPythonScript(t, "contract.py", false),
);
