// The byte format of a state snapshot in flight: a version byte, then length-prefixed key/value
// pairs, then a trailer with the pair count so that a truncated stream is detected.
//   u8 version | { u32 keyBytes (> 0) | key | u32 valueBytes | value }* | u32 0 | u64 pairCount
// Chunk boundaries carry no meaning: a pair may span chunks, so senders and relays may re-chunk.
import { readUint64BE, writeUint64BE } from "./bytes";

export const SNAPSHOT_FORMAT_VERSION = 1;
/** Refuse keys and values beyond these on decode: a length past them is garbage, not data. */
export const maxSnapshotKeyBytes = 64 * 1024;
export const maxSnapshotValueBytes = 256 * 1024 * 1024;

const U32_BYTES = 4;
const U64_BYTES = 8;

/** Frames pairs into chunks of exactly `maxChunkBytes` (the last one shorter). */
export class SnapshotEncoder {
  private chunk: Buffer;
  private used = 0;
  private pairs = 0;
  private readonly full: Buffer[] = [];
  private readonly scratch = Buffer.allocUnsafe(U64_BYTES);

  constructor(private readonly maxChunkBytes: number) {
    if (!Number.isSafeInteger(maxChunkBytes) || maxChunkBytes < U64_BYTES) {
      throw new RangeError(`maxChunkBytes must be an integer >= ${U64_BYTES}: ${maxChunkBytes}`);
    }
    this.chunk = Buffer.allocUnsafe(maxChunkBytes);
    this.scratch[0] = SNAPSHOT_FORMAT_VERSION;
    this.write(this.scratch.subarray(0, 1));
  }

  add(key: Uint8Array, value: Uint8Array): void {
    if (key.length === 0 || key.length > maxSnapshotKeyBytes) throw new RangeError(`key of ${key.length} bytes`);
    if (value.length > maxSnapshotValueBytes) throw new RangeError(`value of ${value.length} bytes`);
    this.writeU32(key.length);
    this.write(key);
    this.writeU32(value.length);
    this.write(value);
    this.pairs++;
  }

  /** Chunks completed since the last call. */
  takeChunks(): Buffer[] {
    return this.full.splice(0, this.full.length);
  }

  /** Writes the trailer and returns the remaining chunks; the encoder is spent afterwards. */
  finish(): Buffer[] {
    this.writeU32(0);
    writeUint64BE(this.scratch, 0, this.pairs);
    this.write(this.scratch);
    if (this.used > 0) this.full.push(this.chunk.subarray(0, this.used));
    this.used = 0;
    return this.takeChunks();
  }

  private writeU32(n: number): void {
    this.scratch.writeUInt32BE(n, 0);
    this.write(this.scratch.subarray(0, U32_BYTES));
  }

  private write(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      const n = Math.min(bytes.length - at, this.maxChunkBytes - this.used);
      this.chunk.set(bytes.subarray(at, at + n), this.used);
      this.used += n;
      at += n;
      if (this.used === this.maxChunkBytes) {
        this.full.push(this.chunk);
        this.chunk = Buffer.allocUnsafe(this.maxChunkBytes);
        this.used = 0;
      }
    }
  }
}

type Stage = "version" | "keyBytes" | "key" | "valueBytes" | "value" | "count" | "done";

/** Parses the format back into pairs, whatever the chunking. Throws on anything malformed. */
export class SnapshotDecoder {
  private stage: Stage = "version";
  private wantedBytes = 1;
  private parts: Buffer[] = [];
  private partsBytes = 0;
  private key: Buffer = Buffer.alloc(0);
  private pairs = 0;

  /** Yields the pairs completed by `chunk`; keys and values may be views into it. */
  *push(chunk: Buffer): Generator<[Buffer, Buffer]> {
    let at = 0;
    while (at < chunk.length) {
      if (this.stage === "done") throw new Error("snapshot stream: bytes after the trailer");
      const n = Math.min(this.wantedBytes - this.partsBytes, chunk.length - at);
      this.parts.push(chunk.subarray(at, at + n));
      this.partsBytes += n;
      at += n;
      if (this.partsBytes < this.wantedBytes) return;
      const field = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.partsBytes);
      this.parts = [];
      this.partsBytes = 0;
      const pair = this.advance(field);
      if (pair !== undefined) yield pair;
    }
  }

  /** Throws unless the stream ended exactly at its trailer. */
  finish(): void {
    if (this.stage !== "done") throw new Error(`snapshot stream truncated (in ${this.stage})`);
  }

  private advance(field: Buffer): [Buffer, Buffer] | undefined {
    switch (this.stage) {
      case "version":
        if (field[0] !== SNAPSHOT_FORMAT_VERSION) throw new Error(`snapshot stream: unknown version ${field[0]}`);
        return this.expect("keyBytes", U32_BYTES);
      case "keyBytes": {
        const n = field.readUInt32BE(0);
        if (n === 0) return this.expect("count", U64_BYTES);
        if (n > maxSnapshotKeyBytes) throw new Error(`snapshot stream: key of ${n} bytes`);
        return this.expect("key", n);
      }
      case "key":
        this.key = field;
        return this.expect("valueBytes", U32_BYTES);
      case "valueBytes": {
        const n = field.readUInt32BE(0);
        if (n > maxSnapshotValueBytes) throw new Error(`snapshot stream: value of ${n} bytes`);
        if (n > 0) return this.expect("value", n);
        return this.emit(Buffer.alloc(0));
      }
      case "value":
        return this.emit(field);
      case "count": {
        const count = readUint64BE(field, 0);
        if (count !== this.pairs) throw new Error(`snapshot stream: trailer says ${count} pairs, read ${this.pairs}`);
        this.stage = "done";
        return undefined;
      }
      case "done":
        throw new Error("snapshot stream: bytes after the trailer");
    }
  }

  private emit(value: Buffer): [Buffer, Buffer] {
    this.pairs++;
    this.expect("keyBytes", U32_BYTES);
    return [this.key, value];
  }

  private expect(stage: Stage, bytes: number): undefined {
    this.stage = stage;
    this.wantedBytes = bytes;
    return undefined;
  }
}
