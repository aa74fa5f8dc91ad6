// Consumer groups from another language: Python stubs generated from proto/ by protoc join a group over
// the bidi Join stream, commit, fetch, describe and leave (test/python/groups_smoke.py holds the checks).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { protoRoot, repoRoot } from "../support/repo-root";
import { startCluster } from "../support/cluster";

const run = promisify(execFile);
const python = "/usr/bin/python3";
const protoc = "/usr/bin/protoc";
const grpcPythonPlugin = "/usr/bin/grpc_python_plugin";
const scriptDeadlineMs = 90000;
const missing = [python, protoc, grpcPythonPlugin].filter((p) => !existsSync(p));

test(
  "a Python client generated from proto/ joins a group, commits, reads lag and leaves",
  { skip: missing.length > 0 ? `missing ${missing.join(", ")} (packages protobuf-compiler, protobuf-compiler-grpc, python3-grpcio)` : false },
  async (t) => {
    const stubs = mkdtempSync(join(tmpdir(), "raftline-python-stubs-"));
    t.after(() => rmSync(stubs, { recursive: true, force: true }));
    const protoFiles = ["admin", "errors", "groups", "producer", "records"].map((f) => join(protoRoot, "raftline", "v1", `${f}.proto`));
    await run(protoc, ["-I", protoRoot, `--python_out=${stubs}`, `--grpc_out=${stubs}`, `--plugin=protoc-gen-grpc=${grpcPythonPlugin}`, ...protoFiles]);

    const cluster = await startCluster();
    const leader = cluster.node(await cluster.waitForLeader(20000));
    const script = join(repoRoot, "test", "python", "groups_smoke.py");
    try {
      const { stdout } = await run(python, [script, "--leader", leader.clientAddress], {
        env: { ...process.env, PYTHONPATH: stubs, PYTHONDONTWRITEBYTECODE: "1" },
        timeout: scriptDeadlineMs,
      });
      t.diagnostic(stdout.trim());
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string; message: string };
      assert.fail(`groups_smoke.py failed (exit ${e.code}):\n${e.stderr || e.message}\n${e.stdout ?? ""}\n${cluster.logTails()}`);
    }
  },
);
