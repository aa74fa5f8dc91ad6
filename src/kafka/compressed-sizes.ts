// How large compressed records may become, read from the compressed bytes' own headers before anything
// is inflated, so a small batch cannot expand past a bound: snappy blocks state their length up front
// (raw, or in the xerial framing Java clients use), and an LZ4 frame's size is at most its block count
// times its block size. Pure: the inflating itself is the caller's.
import { CorruptBatch } from "./record-batch-v2";
import { KafkaReader } from "./wire";

const xerialMagic = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00];
const xerialHeaderBytes = 16;

/** Snappy data as Kafka producers send it: one raw block, or xerial chunks each holding one. */
export function snappyBlocks(bytes: Uint8Array): Uint8Array[] {
  if (!xerialMagic.every((b, i) => bytes[i] === b)) return [bytes];
  const r = new KafkaReader(bytes, xerialHeaderBytes);
  const blocks: Uint8Array[] = [];
  while (r.remaining > 0) blocks.push(r.slice(r.int32("xerial chunk length"), "xerial chunk"));
  return blocks;
}

/** The length a raw snappy block says it inflates to (its varint preamble). */
export function snappyInflatedBytes(block: Uint8Array): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 5 && i < block.length; i++) {
    value += (block[i] & 0x7f) * scale;
    if ((block[i] & 0x80) === 0) return value;
    scale *= 128;
  }
  throw new CorruptBatch("snappy block without a length preamble");
}

const lz4Magic = 0x184d2204;
const lz4BlockBytes = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];

/** An upper bound on what an LZ4 frame inflates to: its blocks times its block size. */
export function lz4FrameBoundBytes(frame: Uint8Array): number {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (frame.length < 7 || view.getUint32(0, true) !== lz4Magic) throw new CorruptBatch("not an LZ4 frame");
  const flags = frame[4];
  const blockBytes = lz4BlockBytes[(frame[5] >> 4) & 0x7];
  if (!blockBytes) throw new CorruptBatch("LZ4 frame with an unknown block size");
  const blockChecksum = (flags & 0x10) !== 0;
  let pos = 6 + ((flags & 0x08) !== 0 ? 8 : 0) + ((flags & 0x01) !== 0 ? 4 : 0) + 1;
  let blocks = 0;
  for (;;) {
    if (pos + 4 > frame.length) throw new CorruptBatch("LZ4 frame cut short");
    const size = view.getUint32(pos, true) & 0x7fffffff;
    pos += 4;
    if (size === 0) return blocks * blockBytes;
    pos += size + (blockChecksum ? 4 : 0);
    blocks++;
  }
}
