// Decompressing produced batches: gzip through Node's zlib, snappy (raw or xerial-framed) through the
// snappy package, LZ4 frames through lz4-napi, zstd through fzstd. Every codec's output is bounded before
// or while it is inflated, so a small compressed batch cannot expand without limit.
import { Decompress as ZstdStream } from "fzstd";
import { decompressFrameSync } from "lz4-napi";
import { uncompressSync } from "snappy";
import { gunzipSync } from "node:zlib";
import { lz4FrameBoundBytes, snappyBlocks, snappyInflatedBytes } from "../../kafka/compressed-sizes";
import { Compression, CorruptBatch, UnsupportedCompression, type Decompress } from "../../kafka/record-batch-v2";

export function decompressor(maxInflatedBytes: number): Decompress {
  const tooLarge = (codec: string): CorruptBatch => new CorruptBatch(`${codec} records inflate beyond ${maxInflatedBytes} bytes`);
  return (codec, bytes) => {
    try {
      switch (codec) {
        case Compression.Gzip:
          return gunzipSync(bytes, { maxOutputLength: maxInflatedBytes });
        case Compression.Snappy: {
          const blocks = snappyBlocks(bytes);
          if (blocks.reduce((sum, b) => sum + snappyInflatedBytes(b), 0) > maxInflatedBytes) throw tooLarge("snappy");
          return concat(blocks.map((b) => uncompressSync(b, { asBuffer: true }) as Buffer));
        }
        case Compression.Lz4:
          if (lz4FrameBoundBytes(bytes) > maxInflatedBytes) throw tooLarge("lz4");
          return decompressFrameSync(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
        case Compression.Zstd:
          return zstd(bytes, maxInflatedBytes, () => tooLarge("zstd"));
        default:
          throw new UnsupportedCompression(`compression codec ${codec} is not one of gzip, snappy, lz4, zstd`);
      }
    } catch (err) {
      if (err instanceof CorruptBatch || err instanceof UnsupportedCompression) throw err;
      throw new CorruptBatch(`compressed records do not inflate: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
}

/** Streams the frame through fzstd, stopping as soon as the output passes the bound. */
function zstd(bytes: Uint8Array, maxBytes: number, tooLarge: () => Error): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const stream = new ZstdStream((chunk) => {
    total += chunk.length;
    if (total > maxBytes) throw tooLarge();
    chunks.push(chunk.slice());
  });
  stream.push(bytes, true);
  return concat(chunks);
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  return Buffer.concat(chunks);
}
