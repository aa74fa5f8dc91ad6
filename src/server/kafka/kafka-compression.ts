// Decompressing produced batches: gzip through Node's zlib. Snappy, LZ4 and zstd are refused with
// UNSUPPORTED_COMPRESSION_TYPE (no dependency added for them). The inflated size is bounded so a small
// compressed batch cannot expand without limit.
import { gunzipSync } from "node:zlib";
import { Compression, CorruptBatch, UnsupportedCompression, type Decompress } from "../../kafka/record-batch-v2";

export function decompressor(maxInflatedBytes: number): Decompress {
  return (codec, bytes) => {
    if (codec !== Compression.Gzip) throw new UnsupportedCompression(`compression codec ${Compression[codec] ?? codec} is not supported; use none or gzip`);
    try {
      return gunzipSync(bytes, { maxOutputLength: maxInflatedBytes });
    } catch (err) {
      throw new CorruptBatch(`gzip records do not inflate within ${maxInflatedBytes} bytes: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
}
