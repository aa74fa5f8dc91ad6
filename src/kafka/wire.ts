// The Kafka protocol's primitive types on Uint8Array: big-endian signed integers, int16-length strings,
// int32-length bytes, int32-count arrays, and the zigzag varints of RecordBatch v2. Readers check every
// length against what is left, so a hostile length never allocates or reads past the frame.

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
const twoPow32 = 0x1_0000_0000;

/** A request that cannot be decoded; the listener closes the connection (Kafka brokers do the same). */
export class KafkaDecodeError extends Error {
  override readonly name = "KafkaDecodeError";
}

export class KafkaReader {
  private readonly view: DataView;
  pos: number;

  constructor(
    readonly data: Uint8Array,
    start = 0,
    private readonly end = data.length,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(count: number, what: string): void {
    if (count < 0 || this.pos + count > this.end) throw new KafkaDecodeError(`truncated ${what}`);
  }

  int8(what: string): number {
    this.need(1, what);
    return this.view.getInt8(this.pos++);
  }

  int16(what: string): number {
    this.need(2, what);
    const v = this.view.getInt16(this.pos);
    this.pos += 2;
    return v;
  }

  int32(what: string): number {
    this.need(4, what);
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }

  uint32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  /** An int64 that must be a safe integer (offsets, timestamps, producer ids all are in practice). */
  int64(what: string): number {
    this.need(8, what);
    const v = this.view.getInt32(this.pos) * twoPow32 + this.view.getUint32(this.pos + 4);
    if (!Number.isSafeInteger(v)) throw new KafkaDecodeError(`${what} is outside ±2^53`);
    this.pos += 8;
    return v;
  }

  boolean(what: string): boolean {
    return this.int8(what) !== 0;
  }

  nullableString(what: string): string | null {
    const length = this.int16(`${what} length`);
    if (length === -1) return null;
    if (length < 0) throw new KafkaDecodeError(`${what} has length ${length}`);
    this.need(length, what);
    return this.decodeUtf8(length, what);
  }

  string(what: string): string {
    const s = this.nullableString(what);
    if (s === null) throw new KafkaDecodeError(`${what} must not be null`);
    return s;
  }

  nullableBytes(what: string): Uint8Array | null {
    const length = this.int32(`${what} length`);
    if (length === -1) return null;
    return this.slice(length, what);
  }

  bytes(what: string): Uint8Array {
    return this.nullableBytes(what) ?? new Uint8Array(0);
  }

  slice(length: number, what: string): Uint8Array {
    this.need(length, what);
    const out = this.data.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  /** An array whose count must be plausible: each item takes at least `minItemBytes` of what is left. */
  array<T>(what: string, item: (r: KafkaReader, index: number) => T, minItemBytes = 1): T[] {
    const items = this.nullableArray(what, item, minItemBytes);
    return items ?? [];
  }

  nullableArray<T>(what: string, item: (r: KafkaReader, index: number) => T, minItemBytes = 1): T[] | null {
    const count = this.int32(`${what} count`);
    if (count === -1) return null;
    if (count < 0 || count * minItemBytes > this.remaining) throw new KafkaDecodeError(`${what} count ${count} does not fit the frame`);
    const out: T[] = [];
    for (let i = 0; i < count; i++) out.push(item(this, i));
    return out;
  }

  /** A zigzag varint of up to 32 bits (record fields). */
  varint(what: string): number {
    return unzigzag(this.unsignedVarint(what, 5));
  }

  /** A zigzag varlong; values beyond ±2^53 are refused. */
  varlong(what: string): number {
    return unzigzag(this.unsignedVarint(what, 10));
  }

  private unsignedVarint(what: string, maxBytes: number): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < maxBytes; i++) {
      this.need(1, what);
      const b = this.data[this.pos++];
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(value)) throw new KafkaDecodeError(`${what} is outside ±2^53`);
        return value;
      }
      scale *= 128;
    }
    throw new KafkaDecodeError(`${what} is a varint longer than ${maxBytes} bytes`);
  }

  private decodeUtf8(length: number, what: string): string {
    try {
      const s = utf8Decoder.decode(this.data.subarray(this.pos, this.pos + length));
      this.pos += length;
      return s;
    } catch {
      throw new KafkaDecodeError(`${what} is not UTF-8`);
    }
  }
}

function unzigzag(v: number): number {
  return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
}

function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

/** A growing writer; `finish()` returns the written bytes. Responses are small next to the data they carry. */
export class KafkaWriter {
  private buf: Uint8Array;
  private view: DataView;
  pos = 0;

  constructor(initialBytes = 256) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(count: number): void {
    if (this.pos + count <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + count) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  int8(v: number): this {
    this.ensure(1);
    this.view.setInt8(this.pos++, v);
    return this;
  }

  int16(v: number): this {
    this.ensure(2);
    this.view.setInt16(this.pos, v);
    this.pos += 2;
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.view.setInt32(this.pos, v);
    this.pos += 4;
    return this;
  }

  uint32(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
    return this;
  }

  int64(v: number): this {
    this.ensure(8);
    const high = Math.floor(v / twoPow32);
    this.view.setInt32(this.pos, high);
    this.view.setUint32(this.pos + 4, v - high * twoPow32);
    this.pos += 8;
    return this;
  }

  boolean(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }

  nullableString(s: string | null): this {
    if (s === null) return this.int16(-1);
    const bytes = utf8Encoder.encode(s);
    this.int16(bytes.length);
    return this.raw(bytes);
  }

  string(s: string): this {
    return this.nullableString(s);
  }

  nullableBytes(b: Uint8Array | null): this {
    if (b === null) return this.int32(-1);
    this.int32(b.length);
    return this.raw(b);
  }

  array<T>(items: readonly T[], item: (w: KafkaWriter, value: T) => void): this {
    this.int32(items.length);
    for (const value of items) item(this, value);
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  varint(v: number): this {
    let u = zigzag(v);
    this.ensure(10);
    while (u >= 0x80) {
      this.buf[this.pos++] = (u % 0x80) | 0x80;
      u = Math.floor(u / 0x80);
    }
    this.buf[this.pos++] = u;
    return this;
  }

  /** Overwrites an int32 written earlier (lengths and CRCs known only afterwards). */
  patchInt32(at: number, v: number): void {
    this.view.setInt32(at, v);
  }

  patchUint32(at: number, v: number): void {
    this.view.setUint32(at, v);
  }

  /** A view of bytes written so far. */
  written(start: number, end = this.pos): Uint8Array {
    return this.buf.subarray(start, end);
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

export const utf8Bytes = (s: string): Uint8Array => utf8Encoder.encode(s);
export const fromUtf8 = (b: Uint8Array): string => utf8Decoder.decode(b);
