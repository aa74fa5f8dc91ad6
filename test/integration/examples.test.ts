// The examples in examples/ run against a live cluster and print what they promise; README.md shows
// the quick-start example verbatim, so the README cannot drift from code that runs.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Cluster, startCluster } from "../support/cluster";
import { protoRoot, repoRoot } from "../support/repo-root";
import { startSecureCluster } from "../support/secure-cluster";
import { issueCertificate, writeIssued } from "../../src/cli/dev-certificates";

const run = promisify(execFile);
const exampleDeadlineMs = 60000;
const python = "/usr/bin/python3";
const protoc = "/usr/bin/protoc";
const grpcPythonPlugin = "/usr/bin/grpc_python_plugin";

let cluster: Cluster;

before(async () => {
  cluster = await startCluster({ cleanupAfter: false });
  await cluster.waitForLeader(20000);
});
after(() => cluster.cleanup());

async function runExample(file: string): Promise<string> {
  // Run from the repository, where "raftline/client" resolves to this package through its exports.
  const { stdout } = await run(process.execPath, [join(repoRoot, "examples", file)], {
    cwd: repoRoot,
    env: { ...process.env, RAFTLINE_BROKERS: cluster.brokers.join(",") },
    timeout: exampleDeadlineMs,
  });
  return stdout;
}

test("examples/quickstart.mjs produces three records and reads them back", async () => {
  const out = await runExample("quickstart.mjs");
  assert.match(out, /produced at offsets 0, 1, 2/);
  assert.match(out, /0: sensor-1 = 21\.5\n1: sensor-2 = 19\.0\n2: sensor-1 = 21\.7\n/);
});

test("examples/subscribe.mjs follows a partition as records commit", async () => {
  const out = await runExample("subscribe.mjs");
  assert.deepEqual(out.trim().split("\n"), [1, 2, 3, 4, 5].map((i) => `offset ${i - 1}: event ${i}`));
});

test("README.md shows examples/quickstart.mjs as it is", () => {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const example = readFileSync(join(repoRoot, "examples", "quickstart.mjs"), "utf8");
  assert.ok(readme.includes(example.trim()), "README.md's SDK example differs from examples/quickstart.mjs");
});

const missing = [python, protoc, grpcPythonPlugin].filter((p) => !existsSync(p));

test(
  "examples/python/quickstart.py, with stubs generated from proto/, produces and fetches",
  { skip: missing.length > 0 ? `missing ${missing.join(", ")}` : false },
  async (t) => {
    const stubs = mkdtempSync(join(tmpdir(), "raftline-example-stubs-"));
    t.after(() => rmSync(stubs, { recursive: true, force: true }));
    const protoFiles = ["admin", "consumer", "errors", "producer", "records"].map((f) => join(protoRoot, "raftline", "v1", `${f}.proto`));
    await run(protoc, ["-I", protoRoot, `--python_out=${stubs}`, `--grpc_out=${stubs}`, `--plugin=protoc-gen-grpc=${grpcPythonPlugin}`, ...protoFiles]);
    const { stdout } = await run(python, [join(repoRoot, "examples", "python", "quickstart.py"), "--broker", cluster.brokers[0]], {
      env: { ...process.env, PYTHONPATH: stubs, PYTHONDONTWRITEBYTECODE: "1" },
      timeout: exampleDeadlineMs,
    });
    assert.match(stdout, /produced at base offset 0/);
    assert.match(stdout, /0: sensor-1 = reading 0\n1: sensor-1 = reading 1\n2: sensor-1 = reading 2/);
  },
);

test(
  "examples/python/quickstart.py connects to a cluster with security on, by token and by client certificate",
  { skip: missing.length > 0 ? `missing ${missing.join(", ")}` : false },
  async (t) => {
    const stubs = mkdtempSync(join(tmpdir(), "raftline-example-stubs-"));
    t.after(() => rmSync(stubs, { recursive: true, force: true }));
    const protoFiles = ["admin", "consumer", "errors", "producer", "records"].map((f) => join(protoRoot, "raftline", "v1", `${f}.proto`));
    await run(protoc, ["-I", protoRoot, `--python_out=${stubs}`, `--grpc_out=${stubs}`, `--plugin=protoc-gen-grpc=${grpcPythonPlugin}`, ...protoFiles]);
    const { cluster: secure, material } = await startSecureCluster({ cleanupAfter: false });
    t.after(() => secure.cleanup());
    await secure.waitForLeader(20000);
    const admin = await writeIssued(material.dir, "admin", await issueCertificate(material.ca, { commonName: "admin", hosts: [] }));
    const ways = [
      ["--token-file", material.superuserTokenFile],
      ["--tls-cert", admin.cert, "--tls-key", admin.key],
    ];
    for (const way of ways) {
      const args = [join(repoRoot, "examples", "python", "quickstart.py"), "--broker", secure.brokers[0], "--tls-ca", material.caFile, ...way];
      const { stdout } = await run(python, args, { env: { ...process.env, PYTHONPATH: stubs, PYTHONDONTWRITEBYTECODE: "1" }, timeout: exampleDeadlineMs });
      assert.match(stdout, /produced at base offset 0/, way[0]);
    }
  },
);
