import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { EntryType } from "../../src/raft/types";
import { readUint64BE, writeUint64BE } from "../../src/storage/bytes";
import { APPLIED_KEY, SNAPSHOT_META_KEY, entryIndexOf, entryKey, isStateKey } from "../../src/storage/keys";
import {
  decodeApplied,
  decodeEntry,
  decodeHardState,
  decodeSnapshotMeta,
  encodeApplied,
  encodeEntry,
  encodeHardState,
  encodeSnapshotMeta,
  entryTermOf,
} from "../../src/storage/raft-codec";
import { crc32c } from "../../src/broker/crc32c";
import { StorageCorruption } from "../../src/storage/corruption";

describe("storage keys", () => {
  it("orders entry keys bytewise exactly as their indexes", () => {
    const indexes = [0, 1, 255, 256, 65_535, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER];
    const keys = [...indexes].reverse().map(entryKey).sort(Buffer.compare);
    assert.deepEqual(keys.map(entryIndexOf), indexes);
  });

  it("counts only the applied key and the broker range as state", () => {
    assert.ok(isStateKey(APPLIED_KEY));
    assert.ok(isStateKey(Buffer.from([0x10, 1])) && isStateKey(Buffer.from([0x1f])));
    for (const key of [SNAPSHOT_META_KEY, entryKey(1), Buffer.from([0x05]), Buffer.from([0x0f]), Buffer.from([0x20]), Buffer.from([0x03, 0])]) {
      assert.ok(!isStateKey(key), key.toString("hex"));
    }
  });

  it("refuses 64-bit values JavaScript cannot hold", () => {
    const buf = Buffer.alloc(8);
    assert.throws(() => writeUint64BE(buf, 0, -1), RangeError);
    assert.throws(() => writeUint64BE(buf, 0, 1.5), RangeError);
    buf.fill(0xff);
    assert.throws(() => readUint64BE(buf, 0), RangeError);
  });
});

describe("raft codec", () => {
  it("round-trips every record", () => {
    const conf = { voters: [1, 2, 3], learners: [9] };
    const entry = { index: 42, term: 7, type: EntryType.ConfChange, data: new Uint8Array([1, 2, 3]) };
    const decoded = decodeEntry(42, encodeEntry(entry));
    assert.deepEqual({ ...decoded, data: [...decoded.data] }, { ...entry, data: [1, 2, 3] });
    assert.equal(encodeEntry(entry).length, 4 + 9 + 3);
    assert.deepEqual(decodeHardState(encodeHardState({ term: 3, vote: 2, commit: 40 })), { term: 3, vote: 2, commit: 40 });
    assert.deepEqual(decodeApplied(encodeApplied(40, conf)), { applied: 40, conf });
    assert.deepEqual(decodeSnapshotMeta(encodeSnapshotMeta({ index: 40, term: 3, conf })), { index: 40, term: 3, conf });
  });

  it("reports short, long or mistyped values as corruption", () => {
    const meta = encodeSnapshotMeta({ index: 1, term: 1, conf: { voters: [1], learners: [] } });
    assert.throws(() => decodeSnapshotMeta(meta.subarray(0, meta.length - 1)), /corrupt snapshot meta/);
    assert.throws(() => decodeSnapshotMeta(Buffer.concat([meta, Buffer.from([0])])), /corrupt snapshot meta/);
    assert.throws(() => decodeHardState(Buffer.alloc(27)), /corrupt hard state/);
    const badType = encodeEntry({ index: 1, term: 1, type: EntryType.Normal, data: new Uint8Array(0) });
    badType[12] = 7;
    badType.writeUInt32BE(crc32c(badType, 4), 0);
    assert.throws(() => decodeEntry(1, badType), /corrupt entry 1 type/);
  });

  it("finds any flipped bit in an entry, the hard state, the applied state or the snapshot meta by its checksum", () => {
    const entry = encodeEntry({ index: 5, term: 2, type: EntryType.Normal, data: new Uint8Array([1, 2, 3, 4, 5]) });
    const hardState = encodeHardState({ term: 3, vote: 2, commit: 40 });
    const conf = { voters: [1, 2, 3], learners: [4] };
    for (const [value, decode, what] of [
      [entry, (v: Buffer) => decodeEntry(5, v), /corrupt entry 5: CRC-32C mismatch/],
      [hardState, decodeHardState, /corrupt hard state: CRC-32C mismatch/],
      [encodeApplied(40, conf), decodeApplied, /corrupt applied state: CRC-32C mismatch/],
      [encodeSnapshotMeta({ index: 40, term: 3, conf }), decodeSnapshotMeta, /corrupt snapshot meta: CRC-32C mismatch/],
    ] as const) {
      for (let bit = 0; bit < value.length * 8; bit++) {
        const flipped = Buffer.from(value);
        flipped[bit >> 3] ^= 1 << (bit & 7);
        assert.throws(() => decode(flipped), (err: unknown) => err instanceof StorageCorruption && what.test(err.message), `bit ${bit}`);
      }
    }
    assert.throws(() => entryTermOf(Buffer.concat([entry.subarray(0, 12), Buffer.from([9])])), StorageCorruption);
  });
});
