// Protobuf wire format, written by hand into one growing Buffer: for answers encoded straight from
// stored bytes. Writers do not check room per call; the caller reserves what a whole message needs first
// (exact sizes come from `varintSize` and friends), which keeps the per-field cost to a few stores.

export const wireTypeVarint = 0;
export const wireTypeLen = 2;

const twoPow31 = 0x8000_0000;

/** The one-byte key of a field numbered 1..15. */
export function fieldKey(field: number, wireType: number): number {
  return (field << 3) | wireType;
}

/** Bytes of a varint holding `value`, a non-negative safe integer. */
export function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x20_0000) return 3;
  if (value < 0x1000_0000) return 4;
  let bytes = 4;
  for (let rest = Math.floor(value / 0x1000_0000); rest > 0; rest = Math.floor(rest / 0x80)) bytes++;
  return bytes;
}

/** Bytes of a length-delimited field (one-byte key) with a body of `bodyBytes`. */
export function lenFieldSize(bodyBytes: number): number {
  return 1 + varintSize(bodyBytes) + bodyBytes;
}

/** Bytes of an integer field (one-byte key); 0 when the value is the default and is left out. */
export function uintFieldSize(value: number): number {
  return value === 0 ? 0 : 1 + varintSize(value);
}

/**
 * Copies shorter than this go four bytes at a time through DataViews: on Node 20 that beat making a view
 * for `set` below about 200 bytes, and a byte loop everywhere (most record values are short).
 */
const wordCopyMaxBytes = 192;

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export class WireWriter {
  private bytes: Buffer;
  private view: DataView;
  /** The last source copied from and a view of it: copies come from one stored batch after another. */
  private source: Uint8Array | undefined;
  private sourceView: DataView | undefined;
  pos = 0;

  constructor(capacityBytes: number) {
    this.bytes = Buffer.allocUnsafe(capacityBytes);
    this.view = viewOf(this.bytes);
  }

  /** Makes room for `count` more bytes, growing (and copying what is written) when short. */
  reserve(count: number): void {
    const needed = this.pos + count;
    if (needed <= this.bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.bytes.length * 2));
    this.bytes.copy(grown, 0, 0, this.pos);
    this.bytes = grown;
    this.view = viewOf(grown);
  }

  byte(value: number): void {
    this.bytes[this.pos++] = value;
  }

  varint(value: number): void {
    const b = this.bytes;
    let p = this.pos;
    if (value < twoPow31) {
      while (value > 0x7f) {
        b[p++] = (value & 0x7f) | 0x80;
        value >>>= 7;
      }
    } else {
      while (value > 0x7f) {
        b[p++] = (value % 0x80) | 0x80;
        value = Math.floor(value / 0x80);
      }
    }
    b[p++] = value;
    this.pos = p;
  }

  /** An integer field, left out when 0 (proto3 default). */
  uintField(key: number, value: number): void {
    if (value === 0) return;
    this.bytes[this.pos++] = key;
    this.varint(value);
  }

  /** A length-delimited field whose body is `source[start, start + length)`. */
  bytesField(key: number, source: Uint8Array, start: number, length: number): void {
    this.bytes[this.pos++] = key;
    this.varint(length);
    this.copy(source, start, length);
  }

  copy(source: Uint8Array, start: number, length: number): void {
    const p = this.pos;
    if (length < wordCopyMaxBytes) {
      if (source !== this.source) {
        this.source = source;
        this.sourceView = viewOf(source);
      }
      const from = this.sourceView as DataView;
      const to = this.view;
      let i = 0;
      for (; i + 4 <= length; i += 4) to.setUint32(p + i, from.getUint32(start + i, true), true);
      for (; i < length; i++) to.setUint8(p + i, from.getUint8(start + i));
    } else {
      // A plain Uint8Array view: cheaper to make than a Buffer's subarray.
      this.bytes.set(new Uint8Array(source.buffer, source.byteOffset + start, length), p);
    }
    this.pos = p + length;
  }

  /** The bytes written (a view, not a copy). Throws if a write ran past what was reserved. */
  finish(): Buffer {
    if (this.pos > this.bytes.length) throw new Error(`wire writer overran: ${this.pos} > ${this.bytes.length} bytes`);
    return this.bytes.subarray(0, this.pos);
  }
}
