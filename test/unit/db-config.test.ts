// LevelDB's settings as a node resolves them: table files kept open (which bounds the table pages mapped
// into the node's memory) default to 100, come from the flag, the environment or the file, and a value
// LevelDB would silently raise is refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, envConfig, resolveConfig } from "../../src/server/config";

const base = { id: 1, members: "1=127.0.0.1:7001,127.0.0.1:7101", dataDir: "/nowhere" };

test("table files kept open: 100 unless set, set by flag or environment, never below LevelDB's own floor", () => {
  assert.equal(resolveConfig(base).dbMaxOpenFiles, 100);
  assert.equal(resolveConfig(base, { dbMaxOpenFiles: "500" }).dbMaxOpenFiles, 500);
  assert.equal(resolveConfig(base, envConfig({ RAFTLINE_DB_MAX_OPEN_FILES: "80" })).dbMaxOpenFiles, 80);
  assert.throws(() => resolveConfig(base, { dbMaxOpenFiles: "20" }), (err: unknown) => err instanceof ConfigError && /dbMaxOpenFiles must be an integer >= 74, got "20"/.test(err.message));
});
