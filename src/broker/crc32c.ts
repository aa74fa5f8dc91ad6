// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum Kafka and iSCSI use for stored
// data. Slicing-by-8: eight tables let the loop consume 8 bytes per step, several times faster than the
// byte-at-a-time form on large record batches.

const polynomial = 0x82f63b78;
const tableCount = 8;
const tables: Uint32Array = buildTables();

function buildTables(): Uint32Array {
  const t = new Uint32Array(256 * tableCount);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? (c >>> 1) ^ polynomial : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < tableCount; k++) {
      const prev = t[(k - 1) * 256 + n];
      t[k * 256 + n] = (prev >>> 8) ^ t[prev & 0xff];
    }
  }
  return t;
}

/** CRC-32C of `bytes[start, end)`. */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return crc32cExtend(0, bytes, start, end);
}

/**
 * The CRC-32C of some bytes followed by `bytes[start, end)`, given `previous`, the CRC-32C of the bytes
 * before (0 for none): checksums several pieces as if they were one buffer, without copying them.
 */
export function crc32cExtend(previous: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = (previous ^ 0xffffffff) >>> 0;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const lo = crc ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    crc =
      tables[7 * 256 + (lo & 0xff)] ^
      tables[6 * 256 + ((lo >>> 8) & 0xff)] ^
      tables[5 * 256 + ((lo >>> 16) & 0xff)] ^
      tables[4 * 256 + (lo >>> 24)] ^
      tables[3 * 256 + bytes[i + 4]] ^
      tables[2 * 256 + bytes[i + 5]] ^
      tables[1 * 256 + bytes[i + 6]] ^
      tables[bytes[i + 7]];
  }
  for (; i < end; i++) crc = (crc >>> 8) ^ tables[(crc ^ bytes[i]) & 0xff];
  return (crc ^ 0xffffffff) >>> 0;
}
