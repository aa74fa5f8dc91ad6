// Compiles proto/raftline/v1 into one JSON descriptor (protobufjs's JSON form) at build time. The SDK and
// the server load the contract from it, so an installed package needs no .proto files at run time and
// never looks for them on disk. Usage: node scripts/gen-descriptors.mjs OUT_FILE
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const protoRoot = join(repoRoot, "proto");
const files = ["admin", "consumer", "groups", "producer", "queues"].map((f) => `raftline/v1/${f}.proto`);

const out = process.argv[2];
if (!out) {
  process.stderr.write("usage: node scripts/gen-descriptors.mjs OUT_FILE\n");
  process.exit(2);
}
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(protoRoot, target);
root.loadSync(files, { keepCase: false });
root.resolveAll();
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(root.toJSON({ keepComments: false })) + "\n");
